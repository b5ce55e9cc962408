"""ST-NAS' deployment protocol (``latbench validate stnas-decoder:0 --protocol stnas``):
FPS = 1 / T_inf, T_inf = encode one frame with the ``stnas-encoder`` Swin encoder (its depths:
``encoder_depths``; the paper's FPS is its "Swin Short", 1,2,3,2, Sect. 4) + decode the last 11
encodings with the decoder architecture, over 1000 frames. PyTorch (eager), random weights.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

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
from latbench.papers import STNAS_FPS_FRAMES, STNAS_WINDOW
from latbench.papers.stnas import encoder as stnas_encoder
from latbench.timing import Measurement
from latbench.timing.adaptive import Sampler


def stnas_fps(
    encoder: Callable[[torch.Tensor], torch.Tensor],
    decoder: Callable[[torch.Tensor], Any],
    frames: torch.Tensor | Sequence[torch.Tensor],
    *,
    window: int = STNAS_WINDOW,
    n_frames: int = STNAS_FPS_FRAMES,
    time_dim: int = 2,
    sampler: Sampler | None = None,
) -> FrameTiming:
    """ST-NAS FPS: each frame is encoded, joins the last ``window`` encodings, and the window
    (stacked along ``time_dim``, e.g. N×C×T×H×W) is decoded; one sample per frame.

    The window is filled (and the modules warmed up) before timing starts.
    """
    check_frames(n_frames)
    frame = frame_source(frames)
    sampler = sampler or sampler_for(frame(0).device)
    buffer: collections.deque[torch.Tensor] = collections.deque(maxlen=window)
    counter = itertools.count()

    def step() -> None:
        buffer.append(encoder(frame(next(counter))))
        decoder(torch.stack(tuple(buffer), dim=time_dim))

    with torch.inference_mode():
        buffer.extend(encoder(frame(next(counter))) for _ in range(window))
        for _ in range(WARMUP_FRAMES):
            step()
        samples = sampler.sample(step, 1, n_frames)
    return FrameTiming("stnas-fps", Measurement(tuple(samples), 1, sampler.name), n_frames)


class _Tokens(nn.Module):
    """Swin tokens (N, H, W, C) -> feature map (N, C, H, W)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 1, 2)


def stnas_encoder_module(
    size: str, channels: int, hw: tuple[int, int], depths: Sequence[int] | None = None
) -> tuple[nn.Module, torch.Size, list[str]]:
    """The Swin encoder of ``stnas-encoder`` at ``size`` keeping ``depths`` blocks per stage
    (``stnas_encoder.encoder_ops``; default full depth), producing the decoder's
    (N, channels, *hw) frame features; the frame shape; notes on any adaptation."""
    ops = stnas_encoder.encoder_ops(size, depths=depths)
    h, w, c = stnas_encoder.stage_shapes(size)[-1]
    modules, notes = [*(op.build("cpu") for op in ops), _Tokens()], []
    if (c, (h, w)) != (channels, tuple(hw)):
        modules += [nn.Conv2d(c, channels, 1), nn.AdaptiveAvgPool2d(tuple(hw))]
        notes.append(
            f"{size}: encoder output {c}×{h}×{w} adapted to the decoder's "
            f"{channels}×{hw[0]}×{hw[1]} by a 1×1 conv + pooling (not in the paper)"
        )
    module = nn.Sequential(*modules).eval()
    return module, torch.Size(ops[0].input_shape), notes


def encoder_depths(
    decoder: Architecture, options: ProtocolOptions
) -> tuple[Sequence[int] | None, str]:
    """The encoder depths to time and where they come from: ``decoder.meta["encoder_depths"]``,
    else ``options.encoder_depths`` (``--encoder-depths``), else None (full depth).
    ``LatbenchError`` when both are given and differ."""
    meta, given = decoder.meta.get("encoder_depths"), options.encoder_depths
    if meta is not None and not isinstance(meta, list | tuple):
        raise LatbenchError(
            f"{decoder.name or decoder.space}: meta encoder_depths {meta!r} is not a list of "
            "blocks kept per stage (e.g. [1, 2, 3, 2])"
        )
    if meta is not None and given is not None and list(meta) != list(given):
        raise LatbenchError(
            f"{decoder.name or decoder.space}: its meta sets encoder_depths {meta}; "
            f"--encoder-depths {','.join(map(str, given))} differs (give one)"
        )
    if meta is not None:
        return meta, "the decoder's meta encoder_depths"
    return (given, "--encoder-depths") if given is not None else (None, "default: full depth")


def run(decoder: Architecture, options: ProtocolOptions) -> ProtocolResult:
    """ST-NAS FPS of the Swin encoder (its depths from ``encoder_depths``) + ``decoder`` (an
    ``stnas-decoder`` architecture, its size from ``decoder.meta``) on ``options.device``
    over ``options.n_frames`` frames."""
    size, device, n_frames = decoder.meta.get("size", "small"), options.device, options.n_frames
    n, c, t, h, w = decoder.input_shape
    if t != STNAS_WINDOW:
        raise LatbenchError(
            f"{decoder.name or decoder.space}: decoder window {t}, the ST-NAS "
            f"protocol decodes {STNAS_WINDOW} frames"
        )
    depths, source = encoder_depths(decoder, options)
    try:
        kept = stnas_encoder.check_depths(size, depths)
    except LatbenchError as exc:
        raise LatbenchError(f"{source}: {exc}") from None
    full = stnas_encoder.check_depths(size, None)
    encoder, frame_shape, adapted = stnas_encoder_module(size, c, (h, w), kept)
    notes = [
        f"encoder blocks per stage {','.join(map(str, kept))} ({source}; "
        f"full depth {','.join(map(str, full))})",
        *adapted,
    ]
    dec = ArchitectureModule(decoder).eval().to(device)
    frame = torch.randn(frame_shape, device=device)
    timing = stnas_fps(encoder.to(device), dec, frame, window=STNAS_WINDOW, n_frames=n_frames)
    return ProtocolResult("stnas", decoder.name or decoder.genotype, device, timing, notes)
