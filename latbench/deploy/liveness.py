"""Does a network's output depend on its input? The precondition for an output comparison:
with dead activations (deep ReLU-conv-BN chains at PyTorch's default init) a wrong export would
"match". ``ensure_live`` measures the output's spread over random inputs; too small, it
re-initialises variance-preservingly (He et al. 2015, "Delving Deep into Rectifiers") with
BatchNorm statistics from random batches (Ioffe & Szegedy 2015), and says what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from latbench.architecture import INPUT

if TYPE_CHECKING:
    from latbench.architecture import Architecture

N_PROBES = 4
"""Random inputs the spread is measured over."""

LIVE_FACTOR = 10.0
"""The spread must exceed ``LIVE_FACTOR`` × the comparison's tolerance to count as live."""


@dataclass(frozen=True)
class Liveness:
    """How much the output moves with the input, and what that means for the comparison.

    ``spread``: max |f(x_i) - f(x_0)| over ``N_PROBES`` inputs, relative to max |f(x_0)|;
    ``init``: ``default`` (PyTorch's) or ``variance-preserving`` (re-initialised here);
    ``live``: the output comparison can detect a wrong export; ``note``: why not, if not.
    """

    spread: float
    default_spread: float
    init: str
    live: bool
    note: str = ""


def relative_spread(
    module: nn.Module, example: torch.Tensor, n: int = N_PROBES, seed: int = 1
) -> float:
    """max_i |f(x_i) - f(x_0)|_inf / |f(x_0)|_inf over ``n`` N(0, 1) inputs shaped like
    ``example`` (0 when the output is constant; inf when it is not finite; 1 when its shape
    changes with the input's values, e.g. ``x[x > 0]``: it depends on them, no difference
    can be taken)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.inference_mode():
        raw = [
            module(torch.randn(example.shape, generator=gen, dtype=example.dtype)) for _ in range(n)
        ]
        outs = [(o[0] if isinstance(o, tuple | list) else o).float() for o in raw]
    if any(o.shape != outs[0].shape for o in outs):
        return 1.0
    if not outs[0].numel():
        return 0.0  # always empty: constant
    scale = float(outs[0].abs().max())
    diff = max(float((o - outs[0]).abs().max()) for o in outs[1:])
    if not all(torch.isfinite(o).all() for o in outs):
        return float("inf")
    return diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))


def variance_preserving_init(
    module: nn.Module, example: torch.Tensor, seed: int = 0, n_batches: int = 4
) -> None:
    """He-normal (fan-in, ReLU gain) conv/linear weights, zero biases, and BatchNorm running
    statistics accumulated over ``n_batches`` random inputs (cumulative average); in place,
    leaves the module in eval mode."""
    torch.manual_seed(seed)
    for m in module.modules():
        if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
    if norms:
        gen = torch.Generator().manual_seed(seed + 1)
        module.train()
        with torch.no_grad():
            for _ in range(n_batches):
                module(torch.randn(example.shape, generator=gen, dtype=example.dtype))
    module.eval()


def ensure_live(module: nn.Module, example: torch.Tensor, tolerance: float) -> Liveness:
    """Make ``module``'s output depend on its input if an init can, re-initialising it in place
    only when its default-init spread is not above ``LIVE_FACTOR * tolerance`` (``tolerance``:
    the comparison's, ``validate.OUTPUT_TOL``); report what was done."""
    threshold = LIVE_FACTOR * tolerance
    first = relative_spread(module, example)
    if threshold < first < float("inf"):
        return Liveness(first, first, "default", True)
    variance_preserving_init(module, example)
    second = relative_spread(module, example)
    if threshold < second < float("inf"):
        return Liveness(second, first, "variance-preserving", True)
    why = (
        "its output is not finite"
        if second == float("inf")
        else f"its output moves by at most {second:.2g} (relative) over {N_PROBES} random "
        f"inputs, not above {threshold:.2g}, even after a variance-preserving init"
    )
    return Liveness(
        second, first, "variance-preserving", False, f"output comparison proves nothing: {why}"
    )


def input_reaches_output(arch: Architecture) -> bool:
    """Whether some input-to-output path of ``arch`` avoids ``zero`` ops (structural check:
    without one the output cannot depend on the input, whatever the weights)."""
    reached = {INPUT}
    for e in arch.edges:
        if e.op.kind != "zero" and any(s in reached for s in e.src):
            reached.add(e.dst)
    return arch.output in reached
