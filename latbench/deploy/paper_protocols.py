"""Each paper's deployment protocol on a discrete architecture (``latbench validate --protocol``).

- ``rtdnas``: the ordinary validation (export, backends) against RT-DNAS' constraints,
  latency ≤ 50 ms and throughput ≥ 22 FPS (``latbench.papers``); see ``rtdnas_limits``.
- ``stnas``: FPS = 1 / T_inf, T_inf = encode one frame with the Swin encoder of the space
  ``stnas-encoder`` + decode the last 11 encodings with the ST-NAS decoder architecture
  (``protocols.stnas_fps``).
- ``dyncell``: the first frame through the full (static) network, every following frame
  through the encoder + dynamic cell architecture; mean ± std per frame
  (``protocols.dynamic_cell_timing``).

The frame protocols run in PyTorch (eager) on the device given; the modules are built from the
spaces' OpSpecs with random weights (timing needs no trained weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from latbench.archs import Architecture, ArchitectureModule
from latbench.deploy.protocols import FrameTiming, dynamic_cell_timing, stnas_fps
from latbench.errors import LatbenchError
from latbench.papers import RTDNAS_LATENCY_UB_MS, RTDNAS_MIN_FPS, STNAS_WINDOW
from latbench.spaces import stnas_encoder

PROTOCOLS = ("rtdnas", "stnas", "dyncell")
"""The papers' deployment protocols."""

_SPACE_OF = {"stnas": "stnas-decoder", "dyncell": "dyncell"}


def rtdnas_limits(budget_ms: float | None, min_fps: float | None) -> tuple[float, float]:
    """RT-DNAS' latency bound and FPS floor, unless the caller gave others."""
    return (
        RTDNAS_LATENCY_UB_MS if budget_ms is None else budget_ms,
        RTDNAS_MIN_FPS if min_fps is None else min_fps,
    )


@dataclass
class ProtocolResult:
    """A frame protocol's timing, what ran, and every stand-in or adaptation named."""

    protocol: str
    arch: str
    device: str
    timing: FrameTiming
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "arch": self.arch,
            "device": self.device,
            **self.timing.to_dict(),
            "notes": list(self.notes),
        }


class _Tokens(nn.Module):
    """Swin tokens (N, H, W, C) -> feature map (N, C, H, W), then an optional adapter."""

    def __init__(self, adapter: nn.Module | None = None):
        super().__init__()
        self.adapter = adapter or nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.adapter(x.permute(0, 3, 1, 2))


def stnas_encoder_module(
    size: str, channels: int, hw: tuple[int, int]
) -> tuple[nn.Module, torch.Size, list[str]]:
    """The Swin encoder of ``stnas-encoder`` at ``size`` (full depth), producing the decoder's
    (N, channels, *hw) frame features; the frame shape; notes on any adaptation."""
    ops = stnas_encoder.encoder_ops(size)
    h, w, c = stnas_encoder.stage_shapes(size)[-1]
    notes = []
    adapter = None
    if (c, (h, w)) != (channels, tuple(hw)):
        adapter = nn.Sequential(nn.Conv2d(c, channels, 1), nn.AdaptiveAvgPool2d(tuple(hw)))
        notes.append(
            f"{size}: encoder output {c}×{h}×{w} adapted to the decoder's "
            f"{channels}×{hw[0]}×{hw[1]} by a 1×1 conv + pooling (not in the paper)"
        )
    module = nn.Sequential(*(op.build("cpu") for op in ops), _Tokens(adapter)).eval()
    return module, torch.Size(ops[0].input_shape), notes


def run_stnas(decoder: Architecture, size: str, device: str, n_frames: int) -> ProtocolResult:
    """ST-NAS FPS of the Swin encoder + ``decoder`` (an ``stnas-decoder`` architecture)."""
    _check_space(decoder, "stnas")
    n, c, t, h, w = decoder.input_shape
    if t != STNAS_WINDOW:
        raise LatbenchError(
            f"{decoder.name or decoder.space}: decoder window {t}, the ST-NAS "
            f"protocol decodes {STNAS_WINDOW} frames"
        )
    encoder, frame_shape, notes = stnas_encoder_module(size, c, (h, w))
    dec = ArchitectureModule(decoder).eval().to(device)
    frame = torch.randn(frame_shape, device=device)
    timing = stnas_fps(encoder.to(device), dec, frame, window=STNAS_WINDOW, n_frames=n_frames)
    return ProtocolResult("stnas", decoder.name or decoder.genotype, device, timing, notes)


def run_dyncell(
    arch: Architecture, device: str, n_frames: int, static: Architecture | None = None
) -> ProtocolResult:
    """Per-frame mean ± std of a ``dyncell`` architecture (encoder + dynamic cell + head),
    the first frame through ``static`` (default: the same network, a stand-in)."""
    _check_space(arch, "dyncell")
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
        "shapes; see latbench.archs.dyncell)"
    )
    return ProtocolResult("dyncell", arch.name or arch.genotype, device, timing, notes)


def _check_space(arch: Architecture, protocol: str) -> None:
    if arch.space != _SPACE_OF[protocol]:
        raise LatbenchError(
            f"protocol {protocol} needs a {_SPACE_OF[protocol]} architecture "
            f"(e.g. {_SPACE_OF[protocol]}:0), got one of {arch.space!r}"
        )
