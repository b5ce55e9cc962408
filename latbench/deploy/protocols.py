"""The papers' deployment protocols: real-time budgets, ST-NAS FPS, dynamic-cell per-frame time.

- RT-DNAS: latency <= 50 ms (perceived lag) and throughput >= 22 FPS (cine MRI reconstruction).
- ST-NAS: FPS = 1 / T_inf, T_inf = encode one frame + decode one 11-frame window, averaged
  over 1000 frames.
- Dynamic cells: the first frame goes through the full (static) network, every following
  frame through the encoder and the dynamic cell only; runtime reported as mean ± std per frame.

The frame protocols time every frame as one sample with latbench's ``Sampler`` (CUDA events on
a GPU, the monotonic clock on a CPU), for the fixed frame count the paper prescribes, and
return ``Measurement`` objects like every timer.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from latbench.deploy.report import VERDICT_STATISTIC
from latbench.device import require_cuda
from latbench.papers import RTDNAS_LATENCY_UB_MS as RTDNAS_BUDGET_MS
from latbench.papers import RTDNAS_MIN_FPS, STNAS_WINDOW
from latbench.papers import STNAS_FPS_FRAMES as PAPER_FRAMES
from latbench.timing import Measurement
from latbench.timing.adaptive import Sampler
from latbench.timing.cpu import CpuSampler
from latbench.timing.cuda import CudaEventSampler

WARMUP_FRAMES = 10


@dataclass(frozen=True)
class BudgetCheck:
    """A latency and a throughput against the constraints the search was given."""

    latency_ms: float
    fps: float
    budget_ms: float | None
    min_fps: float | None
    statistic: str = VERDICT_STATISTIC
    """The latency statistic ``latency_ms`` is, and ``fps`` (``batch / latency_ms``) is from."""

    @property
    def latency_ok(self) -> bool | None:
        return None if self.budget_ms is None else self.latency_ms <= self.budget_ms

    @property
    def fps_ok(self) -> bool | None:
        return None if self.min_fps is None else self.fps >= self.min_fps

    @property
    def passed(self) -> bool | None:
        """None when no constraint was given; else every given constraint holds."""
        checks = [c for c in (self.latency_ok, self.fps_ok) if c is not None]
        return all(checks) if checks else None

    def to_dict(self) -> dict[str, Any]:
        """Fields named by the statistic they judge: ``latency_median_ms``,
        ``fps_from_latency_median_ms`` (and ``statistic`` naming it)."""
        return {
            "statistic": self.statistic,
            self.statistic: self.latency_ms,
            f"fps_from_{self.statistic}": self.fps,
            "budget_ms": self.budget_ms,
            "min_fps": self.min_fps,
            "latency_ok": self.latency_ok,
            "fps_ok": self.fps_ok,
            "passed": self.passed,
        }


def throughput_fps(m: Measurement, batch: int = 1) -> float:
    """Sustained frames per second: ``batch`` frames per mean call time (total time / frames)."""
    return 1000.0 * batch / m.mean_ms


def check_budget(
    m: Measurement,
    batch: int = 1,
    budget_ms: float | None = RTDNAS_BUDGET_MS,
    min_fps: float | None = RTDNAS_MIN_FPS,
) -> BudgetCheck:
    """Median latency against ``budget_ms`` and the throughput of that same median call,
    ``batch`` frames per median call, against ``min_fps``: one statistic judges both (the
    median: the call a deployment typically sees; the fastest sample is a best case that a
    budget cannot rely on)."""
    return BudgetCheck(m.median_ms, 1000.0 * batch / m.median_ms, budget_ms, min_fps)


def sampler_for(device: str | torch.device) -> Sampler:
    """CUDA events on a GPU, the monotonic nanosecond clock on the CPU."""
    dev = torch.device(device)
    return CudaEventSampler(require_cuda(dev)) if dev.type == "cuda" else CpuSampler()


@dataclass(frozen=True)
class FrameTiming:
    """Per-frame times of a video protocol; ``per_frame`` has one sample per frame."""

    protocol: str
    per_frame: Measurement
    n_frames: int
    first_frame_ms: float | None = None
    following: Measurement | None = None

    @property
    def fps(self) -> float:
        """1 / mean per-frame time (the papers' FPS)."""
        return throughput_fps(self.per_frame)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "protocol": self.protocol,
            "n_frames": self.n_frames,
            "fps": self.fps,
            "frame_mean_ms": self.per_frame.mean_ms,
            "frame_std_ms": self.per_frame.std_ms,
            "frame_median_ms": self.per_frame.median_ms,
            "timer": self.per_frame.timer,
        }
        if self.first_frame_ms is not None:
            out["first_frame_ms"] = self.first_frame_ms
        if self.following is not None:
            out["following_mean_ms"] = self.following.mean_ms
            out["following_std_ms"] = self.following.std_ms
        return out


def _frame_source(frames: torch.Tensor | Sequence[torch.Tensor]) -> Callable[[int], torch.Tensor]:
    seq = (frames,) if isinstance(frames, torch.Tensor) else tuple(frames)
    if not seq:
        raise ValueError("frames must hold at least one frame")
    return lambda i: seq[i % len(seq)]


def _check_frames(n_frames: int) -> None:
    if n_frames < 2:
        raise ValueError(f"n_frames={n_frames}: need at least 2 frames for a mean ± std")


def stnas_fps(
    encoder: Callable[[torch.Tensor], torch.Tensor],
    decoder: Callable[[torch.Tensor], Any],
    frames: torch.Tensor | Sequence[torch.Tensor],
    *,
    window: int = STNAS_WINDOW,
    n_frames: int = PAPER_FRAMES,
    time_dim: int = 2,
    sampler: Sampler | None = None,
) -> FrameTiming:
    """ST-NAS FPS: each frame is encoded, joins the last ``window`` encodings, and the window
    (stacked along ``time_dim``, e.g. N×C×T×H×W) is decoded; one sample per frame.

    The window is filled (and the modules warmed up) before timing starts.
    """
    _check_frames(n_frames)
    frame = _frame_source(frames)
    sampler = sampler or sampler_for(frame(0).device)
    buffer: collections.deque[torch.Tensor] = collections.deque(maxlen=window)
    counter = iter(range(1 << 62))

    def step() -> None:
        buffer.append(encoder(frame(next(counter))))
        decoder(torch.stack(tuple(buffer), dim=time_dim))

    with torch.inference_mode():
        for _ in range(window):
            buffer.append(encoder(frame(next(counter))))
        for _ in range(WARMUP_FRAMES):
            step()
        samples = sampler.sample(step, 1, n_frames)
    return FrameTiming("stnas-fps", Measurement(tuple(samples), 1, sampler.name), n_frames)


def dynamic_cell_timing(
    full: Callable[[torch.Tensor], Any],
    cell: Callable[[torch.Tensor, Any], Any],
    frames: torch.Tensor | Sequence[torch.Tensor],
    *,
    n_frames: int = PAPER_FRAMES,
    sampler: Sampler | None = None,
) -> FrameTiming:
    """Dynamic cells: frame 0 through ``full`` (returns the state), frames 1.. through
    ``cell(frame, state) -> state``; mean ± std per frame over all ``n_frames``.

    One untimed sequence start (full + a few cell steps) warms both paths up first.
    """
    _check_frames(n_frames)
    frame = _frame_source(frames)
    sampler = sampler or sampler_for(frame(0).device)
    state: list[Any] = [None]
    counter = iter(range(1, 1 << 62))

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
