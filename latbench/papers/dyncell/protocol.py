"""The dynamic cells' deployment protocol (``latbench validate dyncell:0 --protocol
dyncell``): the first frame goes through the full (static) network, every following frame
through the encoder and the dynamic cell only; runtime reported as mean ± std per frame
(Table 5). It runs in PyTorch (eager) with random weights (timing needs no trained weights).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import torch

from latbench.archs import Architecture, ArchitectureModule
from latbench.deploy.protocols import (
    WARMUP_FRAMES,
    FrameTiming,
    ProtocolOptions,
    ProtocolResult,
    check_frames,
    frame_source,
    sampler_for,
)
from latbench.errors import LatbenchError
from latbench.papers import DYNCELL_FRAMES
from latbench.timing import Measurement
from latbench.timing.adaptive import Sampler


def dynamic_cell_timing(
    full: Callable[[torch.Tensor], Any],
    cell: Callable[[torch.Tensor, Any], Any],
    frames: torch.Tensor | Sequence[torch.Tensor],
    *,
    n_frames: int = DYNCELL_FRAMES,
    sampler: Sampler | None = None,
) -> FrameTiming:
    """Dynamic cells: frame 0 through ``full`` (returns the state), frames 1.. through
    ``cell(frame, state) -> state``; mean ± std per frame over all ``n_frames``.

    One untimed sequence start (full + a few cell steps) warms both paths up first.
    """
    check_frames(n_frames)
    frame = frame_source(frames)
    sampler = sampler or sampler_for(frame(0).device)
    state: list[Any] = [None]
    counter = itertools.count(1)

    def first() -> None:
        state[0] = full(frame(0))

    def following() -> None:
        state[0] = cell(frame(next(counter)), state[0])

    with torch.inference_mode():
        first()
        for _ in range(WARMUP_FRAMES):
            following()
        first_ms = sampler.sample(first, 1, 1)[0]
        rest = sampler.sample(following, 1, n_frames - 1)
    per_frame = Measurement((first_ms, *rest), 1, sampler.name)
    return FrameTiming(
        "dynamic-cell", per_frame, n_frames, first_ms, Measurement(tuple(rest), 1, sampler.name)
    )


def run(arch: Architecture, options: ProtocolOptions) -> ProtocolResult:
    """Per-frame mean ± std of a ``dyncell`` architecture (encoder + dynamic cell + head) on
    ``options.device``, the first frame through ``options.static`` (default: the same
    network, a stand-in)."""
    device, n_frames, static = options.device, options.n_frames, options.static
    notes = []
    if static is None:
        static = arch
        notes.append(
            "first frame: the static decoder is not in the space (nor the paper); "
            "the per-frame network stands in for the full network"
        )
    if static.input_shape != arch.input_shape:
        raise LatbenchError(
            f"static network reads {static.input_shape}, the dynamic one "
            f"{arch.input_shape}; both take the frame"
        )
    full = ArchitectureModule(static).eval().to(device)
    cell = ArchitectureModule(arch).eval().to(device)
    frame = torch.randn(arch.input_shape, device=device)
    timing = dynamic_cell_timing(full, lambda x, _state: cell(x), frame, n_frames=n_frames)
    notes.append(
        "previous-frame state is timed with the current frame's tensors (same "
        "shapes; see latbench.papers.dyncell.space)"
    )
    return ProtocolResult("dyncell", arch.name or arch.genotype, device, timing, notes)
