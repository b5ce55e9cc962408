"""The adaptive measuring loop, shared by every timer (the clock is the only difference).

Follows triton's ``do_bench`` and torch.utils.benchmark: one untimed call, a short estimate,
warm-up by a time budget turned into a count, then samples in batches until the 95 % CI of
the median is within ``target_rel_ci`` or the budget runs out. Tiny ops are timed in blocks of
``calls_per_sample`` calls so that every sample lasts at least ``min_sample_ms``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

from latbench.timing.measurement import Measurement, median_ci95

MIN_SAMPLES_ON_BUDGET = 3
"""Samples always taken, even when one call outlasts the whole budget."""


@dataclass(frozen=True)
class TimingConfig:
    """How long and how precisely to measure. Budgets are in milliseconds of wall time."""

    warmup_ms: float = 50.0
    budget_ms: float = 1000.0
    min_samples: int = 10
    max_samples: int = 5000
    target_rel_ci: float = 0.01
    min_sample_ms: float = 0.5
    batch: int = 10

    def __post_init__(self) -> None:
        if self.budget_ms <= 0 or self.min_samples < 1 or self.target_rel_ci <= 0:
            raise ValueError(f"invalid TimingConfig {self}: budgets, sample counts and the "
                             "CI target must be positive")

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class Sampler(Protocol):
    """A clock plus a way to take ``n`` samples of ``calls`` back-to-back calls each."""

    name: str

    def now_ns(self) -> int: ...

    def sample(self, fn: Callable[[], object], calls: int, n: int) -> list[float]:
        """Per-call milliseconds of ``n`` samples."""
        ...


def _rel_ci(samples: list[float]) -> float:
    arr = np.sort(np.asarray(samples))
    med = float(np.median(arr))
    lo, hi = median_ci95(arr)
    return (hi - lo) / 2 / med if med > 0 else math.inf


def measure_adaptive(fn: Callable[[], object], sampler: Sampler, config: TimingConfig) -> Measurement:
    """Time ``fn`` with ``sampler`` following ``config``; returns the kept samples."""
    t0 = sampler.now_ns()
    sampler.sample(fn, 1, 1)  # untimed first call: lazy init, allocator, autotuning
    estimate_ms = max(float(np.median(sampler.sample(fn, 1, 3))), 1e-6)
    calls = max(1, math.ceil(config.min_sample_ms / estimate_ms))
    sample_ms = estimate_ms * calls
    n_warm = math.ceil(config.warmup_ms / sample_ms)
    if n_warm > 0:
        sampler.sample(fn, calls, n_warm)

    samples: list[float] = []
    start = sampler.now_ns()
    reason = "max_samples"
    while len(samples) < config.max_samples:
        elapsed_ms = (sampler.now_ns() - start) / 1e6
        left_ms = config.budget_ms - elapsed_ms
        if left_ms <= 0 and len(samples) >= MIN_SAMPLES_ON_BUDGET:
            reason = "budget"
            break
        n = max(1, min(config.batch, int(left_ms // sample_ms)))
        samples.extend(sampler.sample(fn, calls, n))
        sample_ms = max(float(np.median(samples)) * calls, 1e-6)
        if len(samples) >= config.min_samples and _rel_ci(samples) <= config.target_rel_ci:
            reason = "converged"
            break
    return Measurement(
        samples_ms=tuple(samples[: config.max_samples]),
        calls_per_sample=calls,
        timer=sampler.name,
        total_s=(sampler.now_ns() - t0) / 1e9,
        stop_reason=reason,
    )
