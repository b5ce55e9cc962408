"""``Measurement``: what a timer returns — the raw samples and robust statistics over them."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

SPREAD_WARN_IQR_REL = 0.10
"""IQR / median above which a measurement carries a high-spread warning."""

CONTENTION_MEDIAN_OVER_MIN = 2.0
"""Median / fastest sample above which a measurement warns that the device was busy."""

Z_95 = 1.959963984540054

CUDA_EVENT_RESOLUTION_MS = 5e-4
"""CUDA events resolve about 0.5 µs (CUDA runtime API, cudaEventElapsedTime)."""


def median_ci95(sorted_ms: np.ndarray) -> tuple[float, float]:
    """Distribution-free 95 % confidence interval of the median from order statistics."""
    n = len(sorted_ms)
    if n < 6:
        return float(sorted_ms[0]), float(sorted_ms[-1])
    half = Z_95 * math.sqrt(n) / 2
    lo = max(0, int(math.floor(n / 2 - half)) - 1)
    hi = min(n - 1, int(math.ceil(n / 2 + half)))
    return float(sorted_ms[lo]), float(sorted_ms[hi])


def median_rel_ci95(samples_ms: tuple[float, ...] | list[float]) -> float:
    """Half-width of the median's 95 % CI (``median_ci95``) over the median (inf at 0)."""
    arr = np.sort(np.asarray(samples_ms, dtype=np.float64))
    lo, hi = median_ci95(arr)
    med = float(np.median(arr))
    return (hi - lo) / 2 / med if med > 0 else math.inf


@dataclass(frozen=True)
class Measurement:
    """Per-call times (ms) of one op on one device, with the statistics the tables store: each
    sample timed ``calls_per_sample`` calls back to back, divided by that count.

    ``reference_ms`` / ``drift``: with a drift reference in the same interleaved rounds, its
    fastest sample and that over the nominal (1.08: the machine ran 8 % slower); the
    ``*_corrected_ms`` statistics divide it out.
    """

    samples_ms: tuple[float, ...]
    calls_per_sample: int
    timer: str
    total_s: float = 0.0
    stop_reason: str = ""
    extra_warnings: tuple[str, ...] = field(default=())
    reference_ms: float | None = None
    drift: float | None = None

    def __post_init__(self) -> None:
        if not self.samples_ms:
            raise ValueError("a Measurement needs at least one sample")
        zeros = sum(1 for s in self.samples_ms if s <= 0)
        if zeros:  # an op with no kernel (identity) on a coarse clock: floor, and say so
            resolution_ms = (
                CUDA_EVENT_RESOLUTION_MS
                if self.timer.startswith("cuda-event")
                else max(time.get_clock_info("perf_counter").resolution * 1e3, 1e-6)
            )
            floor = resolution_ms / max(1, self.calls_per_sample)
            warning = (
                f"{zeros} sample(s) of 0 ms (below the timer's resolution) floored at "
                f"{floor:.3g} ms: the op is faster than this timer can resolve"
            )
            object.__setattr__(self, "samples_ms", tuple(max(s, floor) for s in self.samples_ms))
            object.__setattr__(self, "extra_warnings", (*self.extra_warnings, warning))

    @property
    def _sorted(self) -> np.ndarray:
        return np.sort(np.asarray(self.samples_ms, dtype=np.float64))

    @property
    def n(self) -> int:
        return len(self.samples_ms)

    @property
    def median_ms(self) -> float:
        return float(np.median(self.samples_ms))

    @property
    def mean_ms(self) -> float:
        return float(np.mean(self.samples_ms))

    @property
    def std_ms(self) -> float:
        return float(np.std(self.samples_ms, ddof=1)) if self.n > 1 else 0.0

    @property
    def iqr_ms(self) -> float:
        q1, q3 = np.percentile(self.samples_ms, [25, 75])
        return float(q3 - q1)

    @property
    def ci95_ms(self) -> tuple[float, float]:
        return median_ci95(self._sorted)

    @property
    def rel_ci95(self) -> float:
        """Half-width of the median's 95 % CI relative to the median."""
        return median_rel_ci95(self.samples_ms)

    @property
    def warnings(self) -> tuple[str, ...]:
        out = list(self.extra_warnings)
        if self.median_ms > 0 and self.iqr_ms / self.median_ms > SPREAD_WARN_IQR_REL:
            out.append(
                f"high spread: IQR is {100 * self.iqr_ms / self.median_ms:.0f}% "
                f"of the median (> {100 * SPREAD_WARN_IQR_REL:.0f}%)"
            )
        fastest = float(self._sorted[0])
        if fastest > 0 and self.median_ms / fastest > CONTENTION_MEDIAN_OVER_MIN:
            out.append(
                f"median is {self.median_ms / fastest:.1f}x the fastest sample: the "
                "device was probably busy (other processes, oversubscribed threads)"
            )
        return tuple(out)

    def stats(self) -> dict[str, Any]:
        """The statistics as flat, unit-named fields (the latency columns of a table)."""
        lo, hi = self.ci95_ms
        p90, p99 = np.percentile(self.samples_ms, [90, 99])
        return {
            "latency_median_ms": self.median_ms,
            "latency_mean_ms": self.mean_ms,
            "latency_std_ms": self.std_ms,
            "latency_iqr_ms": self.iqr_ms,
            "latency_p90_ms": float(p90),
            "latency_p99_ms": float(p99),
            "latency_min_ms": float(self._sorted[0]),
            "latency_ci95_low_ms": lo,
            "latency_ci95_high_ms": hi,
            **self.corrected_stats(),
            "n_samples": self.n,
            "calls_per_sample": self.calls_per_sample,
            "timer": self.timer,
            "stop_reason": self.stop_reason,
            "warnings": "; ".join(self.warnings),
        }

    def corrected_stats(self) -> dict[str, float | None]:
        """``reference_ms``, ``drift`` and the drift-corrected min and median (None without a
        reference: nothing is invented)."""
        if self.reference_ms is None or not self.drift:
            return dict.fromkeys(
                ("reference_ms", "drift", "latency_min_corrected_ms", "latency_median_corrected_ms")
            )
        return {
            "reference_ms": self.reference_ms,
            "drift": self.drift,
            "latency_min_corrected_ms": float(self._sorted[0]) / self.drift,
            "latency_median_corrected_ms": self.median_ms / self.drift,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "samples_ms": list(self.samples_ms)}

    def __repr__(self) -> str:
        lo, hi = self.ci95_ms
        return (
            f"Measurement({self.timer}: median {self.median_ms:.4f} ms "
            f"[95% CI {lo:.4f}-{hi:.4f}], IQR {self.iqr_ms:.4f} ms, n={self.n}"
            f"{', ' + '; '.join(self.warnings) if self.warnings else ''})"
        )
