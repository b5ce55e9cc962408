"""HyperSegNAS filter: keep sampled architectures whose predicted training memory lies within
a band around a target, rank them, and optionally measure the top N to confirm.

The memory predictor is anything with ``predict_archs(archs) -> MiB`` (``MemoryModel``); the
measurement, when asked for, is any ``measure(arch) -> MiB`` callable (nvidia-smi / NVML in
latbench.memory). The paper's "300 MB" are nvidia-smi's MiB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from latbench.archs import Architecture
from nas.errors import CostError, SearchError

BAND_MIB = 300.0  # HyperSegNAS: within 300 MB of the target
DINTS_TARGETS_MIB = (5067.0, 7239.0, 8802.0)  # training memory of the three DiNTS networks
TOP_N = 10  # HyperSegNAS fine-tunes the top 10


@runtime_checkable
class MemoryModel(Protocol):
    """Predicts the training-time GPU memory of whole architectures, in MiB."""

    def predict_archs(self, archs: Sequence[Architecture]) -> np.ndarray:
        ...


@dataclass
class FilterResult:
    """Kept architectures (ranked, best first) with their predicted and measured memory."""

    target_mib: float
    band_mib: float
    n_sampled: int
    kept: list[Architecture]
    predicted_mib: np.ndarray
    scores: np.ndarray
    measured_mib: dict[int, float] = field(default_factory=dict)  # rank -> measured MiB

    def within_band(self, values_mib: np.ndarray) -> np.ndarray:
        return np.abs(np.asarray(values_mib) - self.target_mib) <= self.band_mib


def predict_memory(model: MemoryModel, archs: Sequence[Architecture]) -> np.ndarray:
    """``model.predict_archs`` checked: one finite, positive MiB value per architecture."""
    mib = np.asarray(model.predict_archs(list(archs)), dtype=np.float64).reshape(-1)
    if mib.size != len(archs):
        raise CostError(f"memory model returned {mib.size} values for {len(archs)} architectures")
    bad = np.flatnonzero(~np.isfinite(mib) | (mib <= 0))
    if bad.size:
        raise CostError(f"memory model gave no usable value for {bad.size} architecture(s), "
                        f"e.g. #{bad[0]} ({archs[bad[0]].name or archs[bad[0]].genotype!r}): "
                        f"{mib[bad[0]]!r}")
    return mib


def filter_by_memory(archs: Sequence[Architecture], model: MemoryModel, target_mib: float,
                     band_mib: float = BAND_MIB,
                     score: Callable[[Architecture], float] | None = None) -> FilterResult:
    """Keep ``archs`` with |predicted − target| ≤ band, ranked by ``score`` (higher is better;
    default: closeness to the target, standing in for the paper's super-net evaluation)."""
    if band_mib <= 0 or target_mib <= 0:
        raise SearchError(f"target_mib={target_mib} and band_mib={band_mib} must be positive")
    mib = predict_memory(model, archs)
    keep = np.flatnonzero(np.abs(mib - target_mib) <= band_mib)
    scores = (np.array([score(archs[i]) for i in keep]) if score is not None
              else -np.abs(mib[keep] - target_mib))
    order = keep[np.argsort(-scores, kind="stable")]
    return FilterResult(target_mib, band_mib, len(archs), [archs[i] for i in order], mib[order],
                        np.sort(scores)[::-1] if scores.size else scores)


def confirm_top(result: FilterResult, measure: Callable[[Architecture], float],
                top_n: int = TOP_N) -> FilterResult:
    """Measure the top ``top_n`` kept architectures (e.g. a few training steps under NVML)."""
    for rank, arch in enumerate(result.kept[:top_n]):
        result.measured_mib[rank] = float(measure(arch))
    return result


@dataclass
class BandScreen:
    """``MemoryModel`` for one band: a cheap per-op estimate for every architecture, and the
    full trace-based prediction wherever the cheap one is too close to a band edge to decide.

    ``screen`` is a fitted ``predictors.memory_screen.MemoryScreen``; the values it returns are
    full predictions near the edges, so the band decision is the full predictor's there.
    """

    screen: object
    target_mib: float
    band_mib: float = BAND_MIB
    n_jobs: int = 1
    n_full_: int = 0

    def predict_archs(self, archs: Sequence[Architecture]) -> np.ndarray:
        result = self.screen.screen(archs, self.target_mib, self.band_mib, self.n_jobs)
        self.n_full_ = result.n_full
        return result.values_mib
