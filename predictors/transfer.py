"""Few-shot transfer to a device latbench has not profiled (HELP / MAPLE setting).

From k networks measured on the target (k = 5–50) and a predictor of a source device,
``TransferPredictor`` fits the target's OWN per-op costs. ``METHODS``: docs/transfer.md, their
math: ``transfer_fit``; ``method="auto"`` picks one and its prior strength α by leave-one-out
cross-validation on the shots (``method_``, ``alpha_``, ``cv_scores_``). Every fitted map is
non-decreasing; predictions far outside the shots' range warn (``ExtrapolationWarning``), none
is below ``FLOOR_FRACTION`` × the fastest shot. An op source is lifted to networks as its op sum.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latbench.archs import Architecture
from latbench.errors import LatbenchError
from latbench.predictors.base import Predictor, check_param, input_level
from latbench.predictors.batch import ArchBatch, encode
from latbench.predictors.device_model import fit_weights, network_terms, op_terms
from latbench.predictors.device_prior import DevicePrior, design, prior_key
from latbench.predictors.metrics import fit_metrics
from latbench.predictors.persist import (
    PredictorFileError,
    check_choice,
    check_numbers,
    check_range,
    check_strings,
    check_type,
    damaged,
    from_state_of,
    persistable,
)
from latbench.predictors.transfer_fit import (
    ALPHAS,
    Fitter,
    Prior,
    diagonal_prior,
    gaussian_prior,
    prior_ridge,
    select,
    tolerance_interval,
)
from latbench.statistics import LATENCY_RANGE_MS, LOG_LATENCY_SPAN

OP_METHODS = ("opcost", "opcost-learned", "opcost-nearest", "opcost-roofline")
ROOFLINE_METHODS = ("roofline", "launches")
METHODS = ("auto", *OP_METHODS, *ROOFLINE_METHODS, "loglinear", "scale")
LAUNCH_TERMS = np.array([1.0, 1.0, 0.0, 0.0])
"""``launches``: the device model's const and launch terms only (docs/transfer.md)."""
PREFERENCE = (
    *("launches", "roofline", "opcost-learned", "opcost-nearest", "opcost-roofline"),
    *("opcost", "loglinear", "scale"),
)
"""Of equal leave-one-out errors the earlier candidate wins (the fewest numbers first)."""
NESTED = ("launches", "roofline", "opcost-roofline")
"""The device model's candidates, each a special case of the next (``transfer_fit.select``)."""
FLOOR_FRACTION = 0.25
"""No prediction below this share of the fastest shot's latency."""
CONST_SD = 10.0
"""Prior sd of the per-network constant, × the shots' mean latency: all but unpenalised."""
MIN_SHOTS = 3
EXTRAPOLATION_FACTOR = 2.0
"""A prediction below min(shots)/F or above max(shots)·F warns."""


class ExtrapolationWarning(UserWarning):
    """A transferred prediction far outside the range of the measured shots."""


def arch_digest(arch: Architecture) -> str:
    """A short stable id of an architecture (sha256 of its JSON), to recognise shots."""
    return hashlib.sha256(arch.to_json().encode()).hexdigest()[:16]


def source_op_costs(source: Any, ops: Sequence[Any]) -> np.ndarray:
    """The source device's cost of each op (any unit: only its shape is used)."""
    if hasattr(source, "op_costs"):  # a transfer or a spec-sheet predictor
        return np.asarray(source.op_costs(ops), dtype=np.float64)
    if input_level(source) == "op":
        return np.asarray(source.predict(list(ops)), dtype=np.float64)
    op_model = getattr(source, "op_model", None)
    if op_model is None:
        raise LatbenchError(
            f"{type(source).__name__} gives no per-op costs; transfer needs an "
            "op predictor, a NetworkPredictor or a TransferPredictor as source"
        )
    return np.asarray(op_model.predict(list(ops)), dtype=np.float64)


def source_network_ms(source: Any, batch: ArchBatch) -> np.ndarray:
    """The source's whole-network prediction; an op source is lifted as the sum of ops."""
    if input_level(source) == "network":
        return np.asarray(source.predict(batch), dtype=np.float64)
    return batch.counts() @ source_op_costs(source, batch.ops)


@persistable
@dataclass(repr=False, eq=False)
class TransferPredictor(Predictor):
    """``source`` (a predictor of device A) carried to device B by k networks measured on B."""

    unit = "ms"
    input_level = "network"
    fitted_attr = "method_"
    fitted_params = ("source", "prior")
    state_keys = (
        *("method_", "alpha_", "vocab", "theta", "map", "scale", "residuals", "cv_scores"),
        *("y_range", "n_shots", "shots", "fit_metrics", "roofline"),
    )

    source: Any
    method: str = "auto"
    device: str = ""
    prior: DevicePrior | None = None
    alphas: Sequence[float] = ALPHAS
    coverage: float = 0.9
    spec_prior: Sequence[float] | None = None

    def fit(
        self, X: Sequence[Architecture] | ArchBatch, y: Sequence[float] | np.ndarray
    ) -> TransferPredictor:
        """Fit on the shots: networks ``X`` measured on the target device as ``y`` (ms)."""
        check_param("method", self.method, METHODS)
        batch = X if isinstance(X, ArchBatch) else encode(X)
        y = np.asarray(y, dtype=np.float64)
        if len(y) != batch.n or len(y) < MIN_SHOTS or not np.all(y > 0):
            raise LatbenchError(
                f"transfer needs >= {MIN_SHOTS} networks measured on the target device, one "
                f"positive latency each; got {batch.n} networks, {len(y)} values"
            )
        self.vocab_ = [op.key for op in batch.ops]
        A = design(batch.counts())
        src = source_op_costs(self.source, batch.ops)
        terms = op_terms(batch.ops)
        T = network_terms(batch.counts(), terms)
        spec = None if self.spec_prior is None else np.asarray(self.spec_prior, np.float64)
        self.roofline_ = fit_weights(T, y, None, spec)
        fitters = _fitters(A, y, src, T, terms, spec)
        if self.prior is not None and self.prior.covers(self.vocab_):
            fitters.update(_prior_fitters(A, y, *self.prior.restrict(self.vocab_)))
        base = source_network_ms(self.source, batch)
        fitters.update(loglinear=_map_fitter(y, base, True), scale=_map_fitter(y, base, False))
        wanted = [m for m in PREFERENCE if self.method in ("auto", m) and m in fitters]
        if not wanted:
            raise LatbenchError(
                f"method {self.method!r} needs a DevicePrior covering the "
                "shots' ops (prior=...); none was given or it lacks some ops"
            )
        alphas = {m: (1.0,) if spec is None else self.alphas for m in ROOFLINE_METHODS}
        alphas.update(dict.fromkeys(OP_METHODS, self.alphas))
        choice = select({m: (fitters[m], alphas.get(m, (0.0,))) for m in wanted}, y, NESTED)
        final = fitters[choice.method](np.arange(len(y)), choice.alpha)
        self.method_, self.alpha_ = choice.method, choice.alpha
        self.residuals_, self.cv_scores_ = choice.residuals, choice.scores
        self.theta_, self.map_ = final.theta, final.map
        self.scale_ = float(np.median(y / np.maximum(A[:, 1:] @ src, 1e-12)))
        self.y_range_ = np.array([y.min(), y.max()])
        self.n_shots_ = len(y)
        self.shots_ = [] if isinstance(X, ArchBatch) else [arch_digest(a) for a in X]
        self.fit_metrics_ = fit_metrics(final(np.arange(len(y))), y)
        return self

    def op_costs(self, ops: Sequence[Any], *, other_batch: bool = True) -> np.ndarray:
        """The target's fitted cost (ms) of each op: its own θ for the shots' ops (with
        ``other_batch``, also for them at another batch), else the device model's cost
        (``opcost-roofline``) or the source's cost times the fitted scale."""
        self._check_fitted("call fit(archs, latency_ms) with networks of the target device")
        if self.method_ not in OP_METHODS:
            raise LatbenchError(
                f"transfer method {self.method_!r} maps whole networks; it has "
                "no per-op costs (use method='opcost')"
            )
        pos = {k: i + 1 for i, k in enumerate(self.vocab_)}
        found = [pos.get(op.key) for op in ops]
        by_batch = [pos.get(prior_key(op.key)) if not j else None for op, j in zip(ops, found)]
        if other_batch:
            found = [j or b for j, b in zip(found, by_batch)]
        elif any(by_batch):
            warnings.warn(
                f"{sum(map(bool, by_batch))} op(s) of these networks are the shots' ops at "
                "another batch size: their costs come from the "
                + ("device model" if self.method_ == "opcost-roofline" else "source")
                + ", not from the shots (fit on networks at the batch you predict)",
                stacklevel=3,
            )
        out = np.array([self.theta_[j] if j else np.nan for j in found])
        missing = [i for i, j in enumerate(found) if not j]
        if missing:
            rest = [ops[i] for i in missing]
            out[missing] = (
                op_terms(rest) @ self.roofline_[1:]
                if self.method_ == "opcost-roofline" and self.roofline_ is not None
                else self.scale_ * source_op_costs(self.source, rest)
            )
        return out

    def predict(self, X: Sequence[Architecture] | ArchBatch) -> np.ndarray:
        """Predicted latency (ms) on the target device, one per architecture."""
        self._check_fitted("call fit(archs, latency_ms) with networks of the target device")
        batch = X if isinstance(X, ArchBatch) else encode(X)
        if self.method_ in OP_METHODS:
            pred = self.theta_[0] + batch.counts() @ self.op_costs(batch.ops, other_batch=False)
        elif self.method_ in ROOFLINE_METHODS:
            pred = network_terms(batch.counts(), op_terms(batch.ops)) @ self.map_
        else:
            pred = _apply_map(self.map_, source_network_ms(self.source, batch))
        lo, hi = self.y_range_
        pred = np.maximum(pred, FLOOR_FRACTION * lo)
        far = (pred < lo / EXTRAPOLATION_FACTOR) | (pred > hi * EXTRAPOLATION_FACTOR)
        if hi > 0 and far.any():
            warnings.warn(
                f"{int(far.sum())} of {len(pred)} predictions lie beyond {EXTRAPOLATION_FACTOR:g}x "
                f"the shots' range {lo:.3g}-{hi:.3g} ms; measure a few such networks as shots",
                ExtrapolationWarning,
                stacklevel=2,
            )
        return pred

    def predict_interval(
        self, X: Sequence[Architecture] | ArchBatch, coverage: float | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(prediction, low, high) in ms: a normal tolerance interval on the log of the shots'
        leave-one-out errors (``transfer_fit.tolerance_factor``), covering ``coverage``
        (default ``self.coverage``) of networks in ``transfer_fit.CONFIDENCE`` of fits."""
        return tolerance_interval(self.predict(X), self.residuals_, coverage or self.coverage)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> TransferPredictor:
        p = check_type("params", state["params"], dict, "an object")
        check_choice("params.method", p.get("method"), METHODS)
        if "slope" in state:  # saved before op-cost transfer
            return cls._from_v0_state(state)
        prior = DevicePrior.from_state(state["prior"]) if state.get("prior") else None
        if state.get("roofline") is not None:  # absent in older files
            check_range("roofline", state["roofline"], 0, MAX_MS, WEIGHTS, 4)
        # the arrays predict uses for the saved method_: their lengths and ranges
        method = check_choice("method_", state["method_"], METHODS[1:])  # a fit never keeps auto
        lo, hi = check_range("y_range", state["y_range"], 0, MAX_MS, "the shots' min and max ms", 2)
        if lo > hi:
            raise damaged("y_range", "[min, max] of the shots' ms", [lo, hi])
        if not check_numbers("residuals", state["residuals"]):
            raise damaged("residuals", "the shots' leave-one-out errors (one or more)", [])
        coverage = p.get("coverage", cls.coverage)
        if not isinstance(coverage, float) or not 0 < coverage < 1:
            raise damaged("params.coverage", "a share of networks in (0, 1)", coverage)
        if method in OP_METHODS:
            vocab = check_strings("vocab", state["vocab"], "a list of op keys")
            check_range("theta", state["theta"], -MAX_MS, MAX_MS, "op costs in ms", len(vocab) + 1)
        elif method in ROOFLINE_METHODS:
            check_range("map", state["map"], 0, MAX_MS, WEIGHTS, 4)
        else:  # log(ms) = map[0] + map[1] log(source ms), non-decreasing
            intercept, slope = check_numbers("map", state["map"], 2)
            check_range(
                "map", [intercept], -LOG_LATENCY_SPAN, LOG_LATENCY_SPAN, "a log-ms intercept"
            )
            check_range("map", [slope], 0, 10, "a slope of 0-10 on log latency")
        obj = cls(from_state_of(state["source"]), prior=prior, **p)
        obj.restore(state, ("theta", "map", "residuals", "y_range", "roofline"), roofline=None)
        check_numbers("scale", [obj.scale_], positive=True)  # source cost -> ms, a median ratio
        if obj.method_ in ("roofline", "opcost-roofline") and obj.roofline_ is None:
            raise PredictorFileError(f"damaged: method_ {obj.method_!r} needs 'roofline'")
        return obj

    @classmethod
    def _from_v0_state(cls, state: Mapping[str, Any]) -> TransferPredictor:
        """A file saved before op-cost transfer: a loglinear or scale map, nothing else."""
        obj = cls(from_state_of(state["base"]), **state["params"])
        obj.method_, obj.alpha_, obj.vocab_ = obj.method, 0.0, []
        obj.theta_ = np.zeros(0)
        obj.map_ = np.array([state["intercept"], state["slope"]], dtype=np.float64)
        obj.scale_, obj.residuals_, obj.cv_scores_ = 1.0, np.zeros(1), {}
        obj.y_range_, obj.n_shots_ = np.zeros(2), int(state["n_shots"])  # range not kept
        obj.shots_, obj.fit_metrics_ = [], dict(state["fit_metrics"])
        obj.roofline_ = None
        return obj


MAX_MS = LATENCY_RANGE_MS[1]
WEIGHTS = f"weights of the device model, >= 0 and <= {MAX_MS:g}"


@dataclass
class _Fitted:
    """A fit on some shots: its predictor of rows, and ``theta`` (op methods) or ``map``."""

    predict: Callable[[np.ndarray], np.ndarray]
    theta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    map: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        return self.predict(rows)


def _ridge_fitter(A: np.ndarray, y: np.ndarray, prior: Callable[[np.ndarray], Prior]) -> Fitter:
    """The per-op ``prior_ridge`` on the ``train`` shots, toward ``prior(train)``."""

    def fit(train: np.ndarray, alpha: float) -> _Fitted:
        theta = prior_ridge(A[train], y[train], prior(train), alpha)
        return _Fitted(lambda rows: A[rows] @ theta, theta=theta)

    return fit


def _fitters(
    A: np.ndarray, y: np.ndarray, src: np.ndarray, T: np.ndarray, terms: np.ndarray, spec: Any
) -> dict[str, Fitter]:
    """``opcost``, ``opcost-roofline``, ``roofline`` and ``launches`` on the shots."""

    def opcost(train: np.ndarray) -> Prior:
        s = float(np.median(y[train] / np.maximum(A[train, 1:] @ src, 1e-12)))
        return diagonal_prior(np.concatenate([[0.0], s * src]), CONST_SD * np.mean(y[train]))

    def opcost_roofline(train: np.ndarray) -> Prior:
        w = fit_weights(T, y, train, spec)
        mean = np.concatenate([[w[0]], terms @ w[1:]])
        return diagonal_prior(mean, CONST_SD * float(np.mean(y[train])))

    return {
        "opcost": _ridge_fitter(A, y, opcost),
        "opcost-roofline": _ridge_fitter(A, y, opcost_roofline),
        "roofline": _roofline_fitter(y, T, spec, np.ones(4)),
        "launches": _roofline_fitter(y, T, spec, LAUNCH_TERMS),
    }


def _prior_fitters(
    A: np.ndarray, y: np.ndarray, mean: np.ndarray, cov: np.ndarray, phis: np.ndarray
) -> dict[str, Fitter]:
    """``opcost-learned``, ``opcost-nearest``: toward a ``DevicePrior`` of the shots' ops."""
    unit = gaussian_prior(mean, cov)  # N(s·μ, s²·Σ) has root R/s: decompose Σ once

    def learned(train: np.ndarray) -> Prior:
        s = float(np.median(y[train] / np.maximum(A[train] @ mean, 1e-12)))
        return Prior(s * mean, unit.root / s)

    def nearest(train: np.ndarray) -> Prior:
        base = A[train] @ phis.T  # (n_train, n_devices)
        s = np.median(y[train, None] / np.maximum(base, 1e-12), axis=0)
        err = np.sqrt(np.mean((base * s / y[train, None] - 1.0) ** 2, axis=0))
        d = int(np.argmin(err))
        return diagonal_prior(s[d] * phis[d], CONST_SD * float(np.mean(y[train])))

    return {
        "opcost-learned": _ridge_fitter(A, y, learned),
        "opcost-nearest": _ridge_fitter(A, y, nearest),
    }


def _roofline_fitter(y: np.ndarray, T: np.ndarray, spec: Any, mask: np.ndarray) -> Fitter:
    """The device model on the shots, with the terms ``mask`` (0/1 of its 4) keeps."""
    spec_m = None if spec is None else spec * mask

    def fit(train: np.ndarray, alpha: float) -> _Fitted:
        w = fit_weights(T * mask, y, train, spec_m, alpha) * mask
        return _Fitted(lambda rows: T[rows] @ w, map=w)

    return fit


def _map_fitter(y: np.ndarray, base: np.ndarray, loglinear: bool) -> Fitter:
    lb, ly = np.log(np.maximum(base, 1e-12)), np.log(y)

    def fit(train: np.ndarray, alpha: float) -> _Fitted:
        slope = max(float(np.polyfit(lb[train], ly[train], 1)[0]), 0.0) if loglinear else 1.0
        gap = ly[train] - slope * lb[train]  # never decreasing: slope >= 0
        m = np.array([float(np.mean(gap) if loglinear else np.median(gap)), slope])
        return _Fitted(lambda rows: _apply_map(m, base[rows]), map=m)

    return fit


def _apply_map(m: np.ndarray, base_ms: np.ndarray) -> np.ndarray:
    return np.exp(m[0] + m[1] * np.log(np.maximum(base_ms, 1e-12)))
