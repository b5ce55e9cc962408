"""Fast memory screening of thousands of architectures: per-op terms, full trace near the band.

HyperSegNAS keeps the sampled architectures within 300 MB of a target; tracing each costs
~0.5 s. The screen sums per-op terms (each distinct OpSpec traced alone once), maps the sums to
the full predictor's scale by least squares on a calibration sample, and runs the full
predictor only where the fast value lies within a margin (``SAFETY`` × the largest
leave-one-out error) of an edge of the band (``MemoryBand``, also the filter of
``latbench.papers.hypersegnas.search``). Every value says which path produced it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from latbench.architecture import Architecture
from latbench.errors import LatbenchError
from latbench.fleet.pool import parallel_map
from latbench.memory.steps import TrainConfig, as_training_architecture
from latbench.memory.terms import op_terms
from latbench.opspec import OpSpec
from latbench.papers import HYPERSEGNAS_BAND_MIB, MIB
from latbench.predictors.base import Predictor
from latbench.predictors.memory import TrainingMemoryPredictor

STATE_COPIES = {"sgd": 1, "adam": 2, "adamw": 2}  # optimizer state tensors per parameter
SAFETY = 1.25
"""With it no fast-path decision was wrong at 8-32 calibration networks
(bench/memory_screen_margin.py)."""


class BandError(LatbenchError, ValueError):
    """A band that cannot hold anything (non-positive target or width)."""


@dataclass(frozen=True)
class MemoryBand:
    """|memory − ``target_mib``| ≤ ``band_mib`` (HyperSegNAS: 300 MB of a DiNTS network's)."""

    target_mib: float
    band_mib: float = HYPERSEGNAS_BAND_MIB

    def __post_init__(self) -> None:
        if not (self.band_mib > 0 and self.target_mib > 0):
            raise BandError(
                f"target_mib={self.target_mib:g} and band_mib={self.band_mib:g} must be positive"
            )

    def contains(self, values_mib: np.ndarray) -> np.ndarray:
        """Boolean per value: inside the band (edges included)."""
        return np.abs(np.asarray(values_mib, dtype=np.float64) - self.target_mib) <= self.band_mib

    def near_edge(self, values_mib: np.ndarray, margin_mib: float) -> np.ndarray:
        """Boolean per value: within ``margin_mib`` of either edge."""
        distance = np.abs(np.asarray(values_mib, dtype=np.float64) - self.target_mib)
        return np.abs(distance - self.band_mib) <= margin_mib


@functools.lru_cache(maxsize=65536)
def _training_op(op: OpSpec, batch: int | None) -> tuple[OpSpec, float]:
    """``op`` in train mode at ``batch``, and its output bytes (cached: spaces share ops)."""
    train = as_training_architecture(op, batch).edges[0].op
    return train, train.features()["output_elems"] * 4


def fast_features(
    arch: Architecture, config: TrainConfig, terms: Mapping[str, tuple[float, float]] | None = None
) -> np.ndarray:
    """Per-architecture sums of per-op terms, in MiB: activations kept for backward,
    parameters x (weights, grads, optimizer state), node sums (a node fed by several edges
    holds one more tensor) and the input; then a constant 1 (``N_FAST_FEATURES``)."""
    kept = params = 0.0
    fan_in: dict[str, int] = {}
    node_bytes: dict[str, float] = {}
    for e in arch.edges:
        op, out_bytes = _training_op(e.op, config.batch)
        k, p = terms[op.key] if terms and op.key in terms else op_terms(op, config)
        kept, params = kept + k, params + p
        fan_in[e.dst] = fan_in.get(e.dst, 0) + 1
        node_bytes[e.dst] = out_bytes
    sums = sum(node_bytes[n] for n, k in fan_in.items() if k > 1)
    copies = 2 + STATE_COPIES[config.optimizer]
    shape = arch.input_shape if config.batch is None else (config.batch, *arch.input_shape[1:])
    input_bytes = float(np.prod(shape)) * 4
    return np.array([kept / MIB, params * copies / MIB, sums / MIB, input_bytes / MIB, 1.0])


N_FAST_FEATURES = 5  # fast_features' length
MIN_CALIBRATION = N_FAST_FEATURES + 2
CHUNK = 100  # architectures screened between two progress reports


def loo_residuals(x: np.ndarray, y: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Leave-one-out residuals of the least-squares fit ``y ~ x @ coef`` without refitting:
    ``e_i / (1 - h_ii)``, ``h`` the hat matrix's diagonal (PRESS; Allen 1974). ``x``: (n, p),
    ``y``: (n,). A point the fit cannot predict without (``h_ii`` = 1) gets ``inf``."""
    leverage = np.einsum("ij,jk,ik->i", x, np.linalg.pinv(x.T @ x), x)
    residuals = y - x @ coef
    with np.errstate(divide="ignore", invalid="ignore"):
        out = residuals / (1.0 - leverage)
    return np.where(1.0 - leverage > 1e-9, out, np.inf)


def full_predictions(
    predictor: TrainingMemoryPredictor,
    archs: Sequence[Architecture],
    n_jobs: int = 1,
    ray: Any = None,
) -> np.ndarray:
    """Full predictions (MiB): here, in ``n_jobs`` local processes (joblib), or as Ray tasks
    when ``ray`` (a connected ``ray`` module) is given."""
    if ray is None and n_jobs <= 1:
        return predictor.predict(archs)
    fn = functools.partial(_full_mib, predictor)
    return np.array(parallel_map(fn, list(archs), n_jobs=n_jobs, ray=ray, chunk=8))


def _full_mib(predictor: TrainingMemoryPredictor, arch: Architecture) -> float:
    return float(predictor.predict([arch])[0])


@dataclass(frozen=True)
class ScreenResult:
    """Predicted MiB per architecture, and which path gave it (``fast`` or ``full``)."""

    values_mib: np.ndarray
    source: np.ndarray
    kept: np.ndarray

    @property
    def n_full(self) -> int:
        return int((self.source == "full").sum())


@dataclass(repr=False, eq=False)
class MemoryScreen(Predictor):
    """Per-op fast path calibrated against a full ``TrainingMemoryPredictor`` (MiB per
    architecture): alone without ``target_mib`` (an estimate); with it, full predictions where
    the fast value lies within the margin of an edge of ``target_mib`` ± ``band_mib``, in
    ``n_jobs`` processes or as Ray tasks (``ray``: a connected ``ray`` module)."""

    unit = "MiB"
    input_level = "network"
    fitted_attr = "coef_"
    fitted_params = ("predictor", "ray", "progress")

    predictor: TrainingMemoryPredictor
    safety: float = SAFETY
    terms: Mapping[str, tuple[float, float]] | None = None
    target_mib: float | None = None
    band_mib: float = HYPERSEGNAS_BAND_MIB
    n_jobs: int = 1
    ray: Any = None
    progress: Callable[[str, int, int], None] | None = None

    def fit(self, X: Sequence[Architecture], y: Sequence[float] | None = None) -> MemoryScreen:
        """Fit fast -> full on ``X`` (a calibration sample, e.g. 32 of the candidates), whose
        full predictions are ``y`` (MiB; default: the predictor's). The margin is ``safety`` x
        the largest leave-one-out error; infinite with fewer than ``MIN_CALIBRATION`` distinct
        networks. Raises ``ValueError`` for fewer than ``MIN_CALIBRATION`` architectures."""

        if len(X) < MIN_CALIBRATION:
            raise ValueError(
                f"MemoryScreen.fit: {len(X)} calibration architecture(s); needs at least "
                f"{MIN_CALIBRATION} ({N_FAST_FEATURES} fast features, and two more for a "
                "held-out error)"
            )
        x = self._features(X)
        full = self.predictor.predict(X) if y is None else np.asarray(y, dtype=np.float64)
        distinct = np.unique(np.column_stack([x, full]), axis=0)
        x, full = distinct[:, :-1], distinct[:, -1]
        self.coef_ = np.linalg.lstsq(x, full, rcond=None)[0]
        self.max_error_mib_ = (
            float(np.abs(loo_residuals(x, full, self.coef_)).max())
            if len(full) >= MIN_CALIBRATION
            else np.inf
        )
        self.margin_mib_ = self.safety * self.max_error_mib_
        self.n_calibration_ = len(X)
        self.n_full_ = 0
        return self

    def _features(self, archs: Sequence[Architecture]) -> np.ndarray:
        return np.stack([fast_features(a, self.predictor.config, self.terms) for a in archs])

    def screen(self, X: Sequence[Architecture]) -> ScreenResult:
        """Fast values for all; full predictions only where the band decision is uncertain;
        ``kept``: final value within the band. Needs ``target_mib``."""
        self._check_fitted("call fit(calibration_archs)")
        band = MemoryBand(self.target_mib or 0.0, self.band_mib)
        values = self._features(X) @ self.coef_
        source = np.full(len(X), "fast", dtype=object)
        near = np.flatnonzero(band.near_edge(values, self.margin_mib_))
        if near.size:
            full = full_predictions(self.predictor, [X[i] for i in near], self.n_jobs, self.ray)
            values[near], source[near] = full, "full"
        return ScreenResult(values, source, band.contains(values))

    def predict(self, X: Sequence[Architecture]) -> np.ndarray:
        """MiB per architecture: fast path alone without ``target_mib``, else ``screen``ed
        ``CHUNK`` at a time (``progress`` hears of each); ``n_full_``: how many were full."""
        self._check_fitted("call fit(calibration_archs)")
        if self.target_mib is None:
            return self._features(X) @ self.coef_
        values, self.n_full_ = [], 0
        if self.progress is not None:
            self.progress("screening", 0, len(X))
        for start in range(0, len(X), CHUNK):
            result = self.screen(X[start : start + CHUNK])
            values.append(result.values_mib)
            self.n_full_ += result.n_full
            if self.progress is not None:
                self.progress("screening", min(start + CHUNK, len(X)), len(X))
        return np.concatenate(values) if values else np.zeros(0)
