"""Deployment protocols' pieces: latency and throughput against a budget (RT-DNAS' ≤ 50 ms,
≥ 22 FPS by default), per-frame timing and what a frame protocol returns. The protocols are
registered by the papers' folders (``latbench.papers.<paper>.protocol``) or a plugin
(``latbench.protocol_registry``); they time each frame as one ``Sampler`` sample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from latbench.deploy.report import VERDICT_STATISTIC
from latbench.device import require_cuda
from latbench.papers import RTDNAS_LATENCY_UB_MS as RTDNAS_BUDGET_MS
from latbench.papers import RTDNAS_MIN_FPS
from latbench.timing import Measurement
from latbench.timing.adaptive import Sampler
from latbench.timing.cpu import CpuSampler
from latbench.timing.cuda import CudaEventSampler

if TYPE_CHECKING:
    from latbench.architecture import Architecture

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
        """Fields named by the statistic they judge (``fps_from_latency_median_ms``)."""
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


def check_budget(
    m: Measurement,
    batch: int = 1,
    budget_ms: float | None = RTDNAS_BUDGET_MS,
    min_fps: float | None = RTDNAS_MIN_FPS,
) -> BudgetCheck:
    """Median latency (ms) against ``budget_ms`` and the throughput of that median call,
    ``batch`` frames per call, against ``min_fps``: the median is the call a deployment
    typically sees; the fastest sample is a best case a budget cannot rely on."""
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
        """1 / mean per-frame time (the papers' FPS: sustained, total time / frames)."""
        return 1000.0 / self.per_frame.mean_ms

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


def frame_source(frames: torch.Tensor | Sequence[torch.Tensor]) -> Callable[[int], torch.Tensor]:
    """Frame ``i`` of ``frames`` (one tensor: always it), cycling; ``ValueError`` when empty."""
    seq = (frames,) if isinstance(frames, torch.Tensor) else tuple(frames)
    if not seq:
        raise ValueError("frames must hold at least one frame")
    return lambda i: seq[i % len(seq)]


def check_frames(n_frames: int) -> None:
    """``ValueError`` below 2 frames (a mean ± std needs two)."""
    if n_frames < 2:
        raise ValueError(f"n_frames={n_frames}: need at least 2 frames for a mean ± std")


@dataclass(frozen=True)
class ProtocolOptions:
    """What ``latbench validate`` passes a frame protocol: the device, the frames to time, an
    optional reference network (``--static``: the dynamic cells' first-frame network) and
    encoder blocks kept per stage (``--encoder-depths``: ST-NAS' searched encoder)."""

    device: str = "cpu"
    n_frames: int = 1000
    static: Architecture | None = None
    encoder_depths: tuple[int, ...] | None = None


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
