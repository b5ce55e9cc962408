"""HyperSegNAS' memory filter: sample DiNTS-space architectures, keep those whose predicted
training memory (``MemoryModel``, MiB) lies within a band around a target, rank them, and measure
the top N to confirm (the paper fine-tunes the top 10). A ``TrainingMemoryPredictor`` on more
than ``SCREEN_CALIBRATION`` candidates screens with per-op estimates (``MemoryScreen``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from latbench.archs import Architecture
from latbench.nas.errors import CostError
from latbench.nas.synthetic import Progress
from latbench.papers import HYPERSEGNAS_BAND_MIB, HYPERSEGNAS_TOP_N
from latbench.papers.hypersegnas.space import HYPERSEG_OP_NAMES, build_network, sample_codes
from latbench.predictors.memory import TrainingMemoryPredictor
from latbench.predictors.memory_screen import MemoryBand, MemoryScreen

SCREEN_CALIBRATION = 32  # full predictions the per-op fast path is calibrated on
FEW_KEPT = 0.02
"""A band keeping fewer than this share of the samples is reported with where the samples lie."""


@runtime_checkable
class MemoryModel(Protocol):
    """Predicts the training-time GPU memory of whole architectures, in MiB."""

    def predict(self, X: Sequence[Architecture]) -> np.ndarray: ...


@dataclass
class FilterResult:
    """Kept architectures (ranked, best first) with their predicted and measured memory; when
    ``screened``, a per-op estimate for all, full trace for ``n_full`` within ``margin_mib`` of
    the band edges."""

    target_mib: float
    band_mib: float
    n_sampled: int
    kept: list[Architecture]
    predicted_mib: np.ndarray
    scores: np.ndarray
    measured_mib: dict[int, float] = field(default_factory=dict)  # rank -> measured MiB
    sampled_mib: tuple[float, float, float] | None = None
    """Predicted memory of all the samples: (min, median, max) MiB (None when none)."""
    screened: bool = False
    n_full: int = 0
    margin_mib: float | None = None

    @property
    def few_kept(self) -> bool:
        """Fewer than ``FEW_KEPT`` of the samples (and at least one) are in the band."""
        return len(self.kept) < max(1.0, FEW_KEPT * self.n_sampled)

    def within_band(self, values_mib: Sequence[float] | np.ndarray) -> np.ndarray:
        return MemoryBand(self.target_mib, self.band_mib).contains(np.asarray(values_mib))


def filter_by_memory(
    archs: Sequence[Architecture],
    model: MemoryModel,
    target_mib: float,
    band_mib: float = HYPERSEGNAS_BAND_MIB,
    score: Callable[[Architecture], float] | None = None,
) -> FilterResult:
    """Keep ``archs`` with |predicted − target| ≤ band, ranked by ``score`` (higher is better;
    default: closeness to the target, standing in for the paper's super-net evaluation).
    ``CostError`` unless ``model`` predicts one finite, positive MiB value per architecture."""
    band = MemoryBand(target_mib, band_mib)
    mib = np.asarray(model.predict(list(archs)), dtype=np.float64).reshape(-1)
    if mib.size != len(archs):
        raise CostError(f"memory model returned {mib.size} values for {len(archs)} architectures")
    bad = np.flatnonzero(~np.isfinite(mib) | (mib <= 0))
    if bad.size:
        first = archs[int(bad[0])]
        raise CostError(
            f"memory model gave no usable value for {bad.size} architecture(s), "
            f"e.g. #{bad[0]} ({first.name or first.genotype!r}): {mib[bad[0]]!r}"
        )
    keep = np.flatnonzero(band.contains(mib))
    scores = (
        np.array([score(archs[i]) for i in keep.tolist()])
        if score is not None
        else -np.abs(mib[keep] - target_mib)
    )
    order = keep[np.argsort(-scores, kind="stable")]
    spread = (float(mib.min()), float(np.median(mib)), float(mib.max())) if mib.size else None
    return FilterResult(
        target_mib,
        band_mib,
        len(archs),
        [archs[i] for i in order.tolist()],
        mib[order],
        np.sort(scores)[::-1] if scores.size else scores,
        sampled_mib=spread,
    )


def confirm_top(
    result: FilterResult, measure: Callable[[Architecture], float], top_n: int = HYPERSEGNAS_TOP_N
) -> FilterResult:
    """Measure the top ``top_n`` kept architectures (e.g. a few training steps under NVML)."""
    for rank, arch in enumerate(result.kept[:top_n]):
        result.measured_mib[rank] = float(measure(arch))
    return result


def sample_architectures(n: int, size: str = "small", seed: int = 0) -> list[Architecture]:
    """``n`` networks of HyperSegNAS' space: DiNTS' topology (``dints``) with skip and 3×3×3
    convolution on the edges, the three P3D ops omitted (HyperSegNAS Sect. 3.1), drawn as its
    Sect. 4 says (``space.sample_codes``) with ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return [
        build_network(sample_codes(size, rng, len(HYPERSEG_OP_NAMES)), size, HYPERSEG_OP_NAMES)
        for _ in range(n)
    ]


def search(
    model: MemoryModel,
    n: int,
    target_mib: float,
    band_mib: float = HYPERSEGNAS_BAND_MIB,
    size: str = "small",
    seed: int = 0,
    n_jobs: int = 2,
    progress: Progress | None = None,
    ray: Any = None,
) -> FilterResult:
    """Sample ``n`` HyperSegNAS architectures (``sample_architectures``), screen or predict
    their memory, keep and rank the band. The screen's full traces run in ``n_jobs`` local
    processes, or as Ray tasks on ``ray`` (a connected ``ray`` module)."""
    MemoryBand(target_mib, band_mib)  # a bad band is refused before any work
    report = progress or (lambda label, done, total: None)
    report("sampling", 0, 1)
    archs = sample_architectures(n, size, seed)
    report("sampling", 1, 1)
    if not isinstance(model, TrainingMemoryPredictor) or len(archs) <= SCREEN_CALIBRATION:
        return filter_by_memory(archs, model, target_mib, band_mib)
    report("calibrating screen", 0, 1)
    screen = MemoryScreen(
        model, target_mib=target_mib, band_mib=band_mib, n_jobs=n_jobs, ray=ray, progress=progress
    ).fit(archs[:SCREEN_CALIBRATION])
    report("calibrating screen", 1, 1)
    result = filter_by_memory(archs, screen, target_mib, band_mib)
    result.screened, result.n_full, result.margin_mib = True, screen.n_full_, screen.margin_mib_
    return result
