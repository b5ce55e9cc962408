"""Learned op predictor: ridge regressions of log latency over OpSpec features.

Features (``FEATURE_NAMES``, log scale: latency is multiplicative): ``OpSpec.features()``'s
analytic ones and structural ones of the hyper-parameters and input shape. One model per op
kind with enough measured rows, one shared model (features plus a one-hot of the kind) for the
rest. scikit-learn's ``Ridge`` fits; its coefficients and standardisation are kept as plain
arrays (a reload predicts bit-identically). ``flops_baseline()``: log FLOPs only, the baseline
every report prints.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import Ridge

from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.predictors.base import FitDomain, OutOfDomainWarning, Predictor
from latbench.predictors.metrics import fit_metrics
from latbench.predictors.persist import (
    check_numbers,
    check_range,
    check_strings,
    check_type,
    damaged,
    persistable,
)
from latbench.statistics import LATENCY_RANGE_MS, LOG_LATENCY_RANGE, LOG_LATENCY_SPAN

FEATURE_NAMES = (
    "log_flops",
    "log_bytes",
    "log_params",
    "log_input_elems",
    "log_output_elems",
    "log_kernel_volume",
    "log_dilation",
    "log_groups",
    "log_stride",
    "log_batch",
    "log_channels",
    "log_spatial",
    "spatial_dims",
)
FLOPS_ONLY = ("log_flops",)


def _prod_param(spec: OpSpec, name: str) -> float:
    value = spec.p.get(name, 1)
    if value is None:
        return 1.0
    if isinstance(value, (tuple, list)):
        return float(math.prod(int(v) for v in value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        dims = max(1, len(spec.input_shape) - 2) if name in ("kernel", "stride") else 1
        return float(value) ** dims
    return 1.0


def spec_features(spec: OpSpec) -> dict[str, float]:
    """One OpSpec's named features (see ``FEATURE_NAMES``)."""
    f = spec.features()
    shape = spec.input_shape
    spatial = float(math.prod(shape[2:])) if len(shape) > 2 else 1.0
    return {
        "log_flops": math.log1p(f["flops"]),
        "log_bytes": math.log1p(f["bytes_read"] + f["bytes_written"]),
        "log_params": math.log1p(f["params"]),
        "log_input_elems": math.log1p(f["input_elems"]),
        "log_output_elems": math.log1p(f["output_elems"]),
        "log_kernel_volume": math.log(_prod_param(spec, "kernel")),
        "log_dilation": math.log(_prod_param(spec, "dilation")),
        "log_groups": math.log(_prod_param(spec, "groups")),
        "log_stride": math.log(_prod_param(spec, "stride")),
        "log_batch": math.log(shape[0]),
        "log_channels": math.log(shape[1]) if len(shape) > 1 else 0.0,
        "log_spatial": math.log(spatial),
        "spatial_dims": float(len(shape) - 2),
    }


def feature_matrix(specs: Sequence[OpSpec], names: Sequence[str] = FEATURE_NAMES) -> np.ndarray:
    """``(len(specs), len(names))`` float64 matrix of ``spec_features``."""
    rows = [[f[n] for n in names] for f in map(spec_features, specs)]
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(names))


FEATURE_MAX = 100.0
FEATURES = f"a log feature's mean or spread within +-{FEATURE_MAX:g}"
SHARED = "*"  # the shared model's name in models_


@dataclass
class LinearLogModel:
    """Standardise, then ``exp(x @ coef + intercept)``: a fitted ridge as plain arrays."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def fit(cls, X: np.ndarray, log_y: np.ndarray, alpha: float) -> LinearLogModel:
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        scale[scale == 0] = 1.0
        ridge = Ridge(alpha=alpha).fit((X - mean) / scale, log_y)
        return cls(mean, scale, np.asarray(ridge.coef_, dtype=np.float64), float(ridge.intercept_))

    def predict_log(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale) @ self.coef + self.intercept

    @classmethod
    def from_state(cls, s: Mapping[str, Any], kind: str, n: int) -> LinearLogModel:
        """The saved model of ``kind`` with ``n`` coefficients, its ranges checked."""
        coef = check_type(f"models.{kind}.coef", s["coef"], list, f"{n} coefficients")
        if len(coef) != n:
            raise damaged(f"models.{kind}.coef", f"{n} coefficients", len(coef))
        # log features: a mean or spread past +-100 (ln 1e43) gives exp() of 0 or inf ms
        check_range("mean", s["mean"], -FEATURE_MAX, FEATURE_MAX, FEATURES, n)
        check_range("scale", check_numbers("scale", s["scale"], n, True), 0, FEATURE_MAX, FEATURES)
        check_range(f"models.{kind}.coef", coef, -LOG_LATENCY_SPAN, LOG_LATENCY_SPAN, COEF)
        where = f"models.{kind}.intercept"
        (intercept,) = check_range(where, [s["intercept"]], *LOG_LATENCY_RANGE, MEAN)
        mean, scale = (np.array(s[k], dtype=np.float64) for k in ("mean", "scale"))
        return cls(mean, scale, np.array(coef, dtype=np.float64), intercept)


@persistable
@dataclass(repr=False, eq=False)
class LearnedPredictor(Predictor):
    """Log-latency ridge over OpSpec features, per op kind or shared (``unit`` ms)."""

    unit = "ms"
    input_level = "op"
    fitted_attr = "models_"
    state_keys = ("kinds", "device", "table_sha256", "fit_metrics", "models", "domain")

    features: Sequence[str] = FEATURE_NAMES
    per_kind: bool = True
    alpha: float = 0.1
    min_rows_per_kind: int = 6

    def fit(
        self,
        X: Sequence[OpSpec],
        y: Sequence[float] | np.ndarray,
        *,
        device: str = "",
        table_sha256: str = "",
    ) -> LearnedPredictor:
        """Fit on ops ``X`` measured as ``y`` (ms each; a table's: ``op_data(table).xy``);
        ``device``, ``table_sha256``: where they came from (saved with the predictor)."""
        unknown = sorted(set(self.features) - set(FEATURE_NAMES))
        if unknown:
            raise LatbenchError(f"unknown feature(s) {unknown}; valid: {', '.join(FEATURE_NAMES)}")
        log_y = np.log(np.asarray(y, dtype=np.float64))
        kinds = np.array([s.kind for s in X])
        self.kinds_ = sorted(set(kinds.tolist()))
        self.domain_ = FitDomain.of(X)
        F = feature_matrix(X, self.features)
        self.models_ = {SHARED: LinearLogModel.fit(self._with_kind(F, kinds), log_y, self.alpha)}
        if self.per_kind:
            for kind in self.kinds_:
                rows = kinds == kind
                if rows.sum() >= self.min_rows_per_kind:
                    self.models_[kind] = LinearLogModel.fit(F[rows], log_y[rows], self.alpha)
        self.device_, self.table_sha256_ = device, table_sha256
        self.fit_metrics_ = fit_metrics(self.predict(X), y) if len(log_y) > 1 else {}
        return self

    def _with_kind(self, X: np.ndarray, kinds: np.ndarray) -> np.ndarray:
        """Append the one-hot of the kinds seen in fit (none for the FLOPs baseline)."""
        if tuple(self.features) == FLOPS_ONLY:
            return X
        onehot = (kinds[:, None] == np.array(self.kinds_)[None, :]).astype(np.float64)
        return np.hstack([X, onehot])

    def predict(self, X: Sequence[OpSpec]) -> np.ndarray:
        """Latency per spec of ``X`` in ms. Ops outside the fit (``FitDomain``): a dtype or mode
        never fitted is refused (``OutOfDomainError``), an unseen kind (priced by the shared model
        from features alone) or a batch or size beyond the fitted range is flagged."""
        self._check_fitted("call fit(specs, latency_ms) first")
        self.check_domain(X)
        F = feature_matrix(X, self.features)
        kinds = np.array([s.kind for s in X], dtype=object)
        unseen = sorted(set(kinds.tolist()) - set(self.kinds_))
        if unseen and getattr(self, "domain_", None) is None:  # a file saved before domain_
            warnings.warn(
                f"op kind(s) {unseen} were not in the fit table; predicted by the "
                "shared model from features alone",
                OutOfDomainWarning,
                stacklevel=2,
            )
        log_y = self.models_[SHARED].predict_log(self._with_kind(F, kinds))
        for kind, model in self.models_.items():
            rows = kinds == kind
            if kind != SHARED and rows.any():
                log_y[rows] = model.predict_log(F[rows])
        return np.exp(log_y)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> LearnedPredictor:
        params = check_type("params", state["params"], dict, "an object")
        names = "feature names, each one of " + ", ".join(FEATURE_NAMES)
        check_strings("params.features", params.get("features"), names, FEATURE_NAMES)
        obj = cls(**params).restore(state, domain=None)
        check_range("params.alpha", [obj.alpha], 0, np.inf, "a ridge penalty >= 0")
        check_type("params.per_kind", obj.per_kind, bool, "true or false")
        if check_type("params.min_rows_per_kind", obj.min_rows_per_kind, int, "an integer") < 1:
            raise damaged("params.min_rows_per_kind", "an integer >= 1", obj.min_rows_per_kind)
        check_strings("kinds", obj.kinds_, "a list of op kinds")
        models = check_type("models", obj.models_, dict, "an object of per-kind models")
        if SHARED not in models or not set(models) <= {SHARED, *obj.kinds_}:
            raise damaged(
                "models",
                f"the shared model {SHARED!r} and models of fitted kinds only",
                sorted(models),
            )
        one_hot = 0 if tuple(obj.features) == FLOPS_ONLY else len(obj.kinds_)
        obj.models_ = {
            kind: LinearLogModel.from_state(m, kind, len(obj.features) + one_hot * (kind == SHARED))
            for kind, m in models.items()
        }
        if obj.domain_ is not None:  # absent in older files
            obj.domain_ = FitDomain.from_state(check_type("domain", obj.domain_, dict, "an object"))
        return obj


MEAN = f"a mean log latency of {LATENCY_RANGE_MS[0]:g}-{LATENCY_RANGE_MS[1]:g} ms"
COEF = (
    "coefficients within the width of the physical log-latency range (one standard deviation "
    "of a feature moving a prediction past it is no fit)"
)


def flops_baseline(alpha: float = 1e-6) -> LearnedPredictor:
    """The FLOPs-only baseline: one shared log-latency ~ log-FLOPs regression."""
    return LearnedPredictor(features=FLOPS_ONLY, per_kind=False, alpha=alpha)


@persistable
class FlopsCost(Predictor):
    """Cost = the op's analytic FLOPs (``unit`` flops): the FLOPs baseline's op model.
    Stateless (``fit`` does nothing)."""

    unit = "flops"
    input_level = "op"

    def fit(self, X: Sequence[OpSpec], y: Any = None) -> FlopsCost:
        return self

    def predict(self, X: Sequence[OpSpec]) -> np.ndarray:
        return np.array([s.features()["flops"] for s in X], dtype=np.float64)

    def to_state(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> FlopsCost:
        return cls()
