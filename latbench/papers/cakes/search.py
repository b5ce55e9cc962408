"""CAKES: channel-wise mixed 3D convolution over sub-kernels with the cost-aware lasso.

Every candidate sub-kernel conv (1×1×3 ... 3×3×3) produces all output channels; channel c of
candidate i is scaled by its path weight α_{c,i} (the paper uses the normalisation layers'
scales), the scaled outputs are concatenated and fused by a 1×1×1 conv (cost-priority search,
Eq. 13). The loss adds λ Σ β_i |α_{c,i}|; each channel keeps argmax_i |α_{c,i}|. β_i is
proportional to the sub-kernel's cost, parameters (the paper's 9/13, 3/13, 1/13) or predicted
latency, normalised so that the mean costs of one 1D, one 2D and one 3D sub-kernel sum to 1.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from latbench.nas.costs import cost_tensor
from latbench.nas.errors import SearchError
from latbench.nas.regularizers import cost_lasso
from latbench.nas.synthetic import Outcome, Progress, distill
from latbench.opspec import OpSpec
from latbench.papers.cakes.space import subkernel_dims
from latbench.predictors.base import CostModel
from latbench.spaces import get_space

DEFAULT_LAMBDA = 0.05  # CPU-sized run; the paper's 1e-4 (latbench.papers.CAKES_LAMBDA) is for
# full training, where the task loss and the number of steps are on another scale
BETA_SOURCES = ("latency", "params")


def kernel_of(spec: OpSpec) -> tuple[int, ...]:
    """The 3-axis kernel of a conv OpSpec (an int kernel k means k×k×k)."""
    k = spec.p["kernel"]
    return (k, k, k) if isinstance(k, int) else tuple(k)


def beta_from_costs(costs: torch.Tensor, kernels: Sequence[Sequence[int]]) -> torch.Tensor:
    """β_i = cost_i / Σ_d mean(cost of the d-dimensional sub-kernels), d ∈ {1, 2, 3} present."""
    dims = torch.tensor([subkernel_dims(k) for k in kernels])
    if costs.shape != dims.shape:
        raise SearchError(f"{costs.numel()} costs for {dims.numel()} sub-kernels")
    norm = sum(costs[dims == d].mean() for d in dims.unique())
    if not norm > 0:
        raise SearchError(f"cannot derive β from costs {costs.tolist()}: they sum to {norm}")
    return costs / norm


def beta_from_params(specs: Sequence[OpSpec]) -> torch.Tensor:
    """β from each candidate's parameter count (reproduces the paper's 9/13, 3/13, 1/13)."""
    params = torch.tensor([s.features()["params"] for s in specs], dtype=torch.float32)
    return beta_from_costs(params, [kernel_of(s) for s in specs])


class ChannelwiseKernelMix(nn.Module):
    """The cost-priority CAKES super-layer: α is (out channels, candidates), init 1."""

    def __init__(self, candidates: Sequence[nn.Module], out_channels: int):
        super().__init__()
        self.ops = nn.ModuleList(candidates)
        self.alpha = nn.Parameter(torch.ones(out_channels, len(candidates)))
        self.fuse = nn.Conv3d(len(candidates) * out_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [op(x) * self.alpha[:, i].view(1, -1, 1, 1, 1) for i, op in enumerate(self.ops)]
        return self.fuse(torch.cat(outs, dim=1))

    def choices(self) -> torch.Tensor:
        """Per output channel, the index of the candidate with the largest |α|."""
        return self.alpha.detach().abs().argmax(dim=1)


def channelwise_latency_ms(choices: torch.Tensor, latency_ms: torch.Tensor) -> float:
    """Estimate of a channel-wise layer's latency: Σ_i (share of channels on i) · lat_i, where
    lat_i is candidate i computing all channels (linear in channels; an estimate)."""
    share = torch.bincount(choices, minlength=latency_ms.numel()).float() / choices.numel()
    return float((share * latency_ms).sum())


@dataclass
class CakesResult:
    """Runs (λ = 0 first; choice: channels per sub-kernel, ``space.NAMES`` order), the β used."""

    runs: list[Outcome]
    beta: list[float]


def search(
    model: CostModel,
    size: str = "small",
    lam: float = DEFAULT_LAMBDA,
    beta_from: str = "latency",
    steps: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
) -> CakesResult:
    """CAKES on the ``cakes`` space's searched layer at ``size``, λ = 0 and ``lam``, β from
    ``beta_from`` (``BETA_SOURCES``); teacher = a channel-wise random sub-kernel layer."""
    if beta_from not in BETA_SOURCES:
        raise SearchError(f"β from {beta_from!r}: expected one of {', '.join(BETA_SOURCES)}")
    layout = get_space("cakes").layout(size)
    candidates, n_out = list(layout.candidates.values()), layout.out_channels
    lat = cost_tensor(model, candidates)
    kernels = [kernel_of(s) for s in candidates]
    beta = beta_from_params(candidates) if beta_from == "params" else beta_from_costs(lat, kernels)
    pick = torch.randint(len(candidates), (n_out,), generator=torch.Generator().manual_seed(seed))
    runs = []
    for lam_run in (0.0, lam):
        torch.manual_seed(seed)
        layer = ChannelwiseKernelMix([s.build() for s in candidates], n_out)
        ops = [copy.deepcopy(op).eval() for op in layer.ops]

        def teacher(x: torch.Tensor, ops: list[nn.Module] = ops) -> torch.Tensor:
            outs = torch.stack([op(x) for op in ops])  # (cands, N, C, ...)
            return outs[pick, :, torch.arange(n_out)].transpose(0, 1)

        task_loss = distill(
            layer,
            teacher,
            candidates[0].input_shape,
            lambda t, layer=layer, lam=lam_run: t + cost_lasso(layer.alpha, beta, lam),
            layer.parameters(),
            steps,
            lr=2e-2,
            seed=seed,
            progress=progress,
            where=f"CAKES λ={lam_run:g}",
        )
        choice = layer.choices()
        counts = torch.bincount(choice, minlength=len(candidates)).tolist()
        teacher_counts = torch.bincount(pick, minlength=len(candidates)).tolist()
        latency_ms = channelwise_latency_ms(choice, lat)
        runs.append(Outcome(lam_run, counts, latency_ms, task_loss, {"teacher": teacher_counts}))
    return CakesResult(runs, beta.tolist())
