"""Network predictor: whole-architecture latency from op costs plus a measured calibration.

An architecture's raw composition is the sum of its op costs or the longest input-to-output
path (RT-DNAS Eq. 4, branches in parallel). A calibration fitted on networks measured as a
whole (non-negative least squares on relative error) absorbs launch overhead, branch merges,
fusion and cache effects (docs/predictors.md):

    latency_ms ≈ w0 + w_sum · op_sum + w_path · longest_path + w_edge · n_edges
                 + w_merge · n_merges                                       ("affine")
    latency_ms ≈ w0 + Σ_kind w_kind · op_sum[kind] + w_merge · n_merges        ("per_kind")
    latency_ms ≈ w_sum · op_sum + w_small · small_op_sum + w_edge · n_edges     ("split")

``linear`` keeps w0 and w_sum, ``scale`` w_sum only, ``none`` the plain composition; under
``composition="longest_path"`` these three calibrate the longest path instead of the op sum
(``per_kind`` and ``split`` refuse it). Under ``per_kind`` unseen kinds get the cost-weighted
mean of the fitted weights. ``split`` (for models running ops one after another) sums apart the
ops costing under ``small_op_ms``, which run 1.1-1.3x their isolated timing inside a model
(bench/model_zoo.results.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from latbench.archs import Architecture
from latbench.errors import LatbenchError
from latbench.predictors.base import CostModel, Predictor, check_param
from latbench.predictors.batch import KIND_PREFIX, ArchBatch, encode
from latbench.predictors.metrics import fit_metrics
from latbench.predictors.persist import (
    check_choice,
    check_range,
    check_type,
    damaged,
    from_state_of,
    persistable,
)
from latbench.predictors.transfer_fit import relative_nnls
from latbench.statistics import LATENCY_RANGE_MS

CALIBRATIONS = ("affine", "per_kind", "split", "linear", "scale", "none")
COMPOSITIONS = ("sum", "longest_path")

CALIBRATION_TERMS = {
    "affine": ("const", "op_sum", "longest_path", "n_edges", "n_merges"),
    "linear": ("const", "op_sum"),
    "scale": ("op_sum",),
    "split": ("op_sum", "small_op_sum", "n_edges"),
    "per_kind": ("const", "n_merges"),  # + one op_sum:<kind> term per kind seen by fit
}
MIN_NETWORKS = 3
NONNEGATIVE = f"numbers >= 0 (fitted non-negative) and <= {LATENCY_RANGE_MS[1]:g}"


def base_terms(calibration: str, composition: str) -> list[str]:
    """The calibration's terms before ``per_kind``'s one per op kind; ``linear`` and ``scale``
    calibrate the composition (op sum or longest path)."""
    terms = list(CALIBRATION_TERMS.get(calibration, ()))
    if composition == "longest_path" and calibration in ("linear", "scale"):
        return ["longest_path" if t == "op_sum" else t for t in terms]
    return terms


@persistable
@dataclass(repr=False, eq=False)
class NetworkPredictor(Predictor):
    """Latency of whole architectures (``unit`` ms) from an op ``CostModel`` plus calibration."""

    unit = "ms"
    input_level = "network"
    fitted_attr = "weights_"
    fitted_params = ("op_model",)
    state_keys = ("terms", "weights", "fit_metrics", "kind_mean_weight")

    op_model: CostModel
    composition: str = "sum"
    calibration: str = "affine"
    small_op_ms: float = 1.0

    def composed(self, archs: Sequence[Architecture] | ArchBatch) -> dict[str, np.ndarray]:
        """Per architecture: op_sum, longest_path, n_edges, n_merges and, under ``split``,
        small_op_sum (the op sum of ops costing under ``small_op_ms``), all uncalibrated."""
        batch = archs if isinstance(archs, ArchBatch) else encode(archs)
        cost = np.asarray(self.op_model.predict(batch.ops), dtype=np.float64)
        feats = batch.features(cost, by_kind=self.calibration == "per_kind")
        if self.calibration == "split":
            feats["small_op_sum"] = batch.counts() @ np.where(cost < self.small_op_ms, cost, 0.0)
        return feats

    def _design(self, feats: Mapping[str, np.ndarray], terms: Sequence[str]) -> np.ndarray:
        n = len(feats["op_sum"])
        return np.column_stack(
            [np.ones(n) if t == "const" else feats.get(t, np.zeros(n)) for t in terms]
        )

    def _unseen_kinds_ms(self, feats: Mapping[str, np.ndarray]) -> np.ndarray:
        """Op costs of kinds without a fitted weight, times the cost-weighted mean weight."""
        kinds = [t for t in self.terms_ if t.startswith(KIND_PREFIX)]
        if not kinds:
            return np.zeros(len(feats["op_sum"]))
        seen = sum(feats.get(t, 0.0) for t in kinds)
        return np.clip(feats["op_sum"] - seen, 0.0, None) * self.kind_mean_weight_

    def fit(
        self, X: Sequence[Architecture] | ArchBatch, y: Sequence[float] | np.ndarray
    ) -> NetworkPredictor:
        """Fit the calibration on networks ``X`` measured as a whole as ``y`` (ms each)."""
        check_param("calibration", self.calibration, CALIBRATIONS)
        check_param("composition", self.composition, COMPOSITIONS)
        if self.composition == "longest_path" and self.calibration in ("per_kind", "split"):
            raise LatbenchError(
                f"calibration={self.calibration!r} calibrates sums of op costs; "
                "composition='longest_path' goes with 'affine' (which fits the op sum and the "
                "longest path), 'linear', 'scale' or 'none'"
            )
        if self.calibration in ("split", "none") and getattr(self.op_model, "unit", "ms") != "ms":
            raise LatbenchError(
                f"calibration={self.calibration!r} takes op costs as ms, but the op model "
                f"gives {self.op_model.unit!r}, not ms; use 'linear' to fit a map"
            )
        y = np.asarray(y, dtype=np.float64)
        n = X.n if isinstance(X, ArchBatch) else len(X)
        if n != len(y) or (self.calibration != "none" and n < MIN_NETWORKS):
            raise LatbenchError(
                f"fit needs one measurement per architecture and >= "
                f"{MIN_NETWORKS} networks; got {n} archs, {len(y)} values"
            )
        feats = self.composed(X)
        self.terms_ = base_terms(self.calibration, self.composition)
        if self.calibration == "per_kind":
            self.terms_ += sorted(t for t in feats if t.startswith(KIND_PREFIX) and feats[t].any())
        if self.terms_ and len(self.terms_) >= n:
            warnings.warn(
                f"{n} networks for {len(self.terms_)} calibration terms: the fit can pass "
                f"through every one, so its fit metrics say nothing; measure more networks "
                f"than terms or use calibration='scale'",
                stacklevel=2,
            )
        self.kind_mean_weight_ = 0.0
        if self.terms_:
            self.weights_ = relative_nnls(self._design(feats, self.terms_), y)
            kinds = [i for i, t in enumerate(self.terms_) if t.startswith(KIND_PREFIX)]
            if kinds:
                totals = np.array([feats[self.terms_[i]].sum() for i in kinds])
                self.kind_mean_weight_ = float(self.weights_[kinds] @ totals / totals.sum())
        else:
            self.weights_ = np.zeros(0)
        self.fit_metrics_ = fit_metrics(self._apply(feats), y)
        return self

    def _apply(self, feats: Mapping[str, np.ndarray]) -> np.ndarray:
        if not self.terms_:
            return feats["op_sum" if self.composition == "sum" else "longest_path"].copy()
        return self._design(feats, self.terms_) @ self.weights_ + self._unseen_kinds_ms(feats)

    def predict(self, X: Sequence[Architecture] | ArchBatch) -> np.ndarray:
        """Predicted latency (ms) per architecture; an ``ArchBatch`` is the fast path."""
        self._check_fitted("call fit(archs, latency_ms)")
        return self._apply(self.composed(X))

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> NetworkPredictor:
        params = check_type("params", state["params"], dict, "an object")
        check_choice("params.composition", params.get("composition"), COMPOSITIONS)
        cal = check_choice("params.calibration", params.get("calibration"), CALIBRATIONS)
        check_range("params.small_op_ms", [params.get("small_op_ms", 1.0)], 0, np.inf, "ms >= 0")
        op_model = from_state_of(state["op_model"])
        if getattr(type(op_model), "input_level", None) != "op":
            raise damaged(
                "op_model", "a predictor of ops (input_level 'op')", type(op_model).__name__
            )
        terms = check_type("terms", state["terms"], list, "a list of term names")
        base = base_terms(cal, params["composition"])
        kinds = terms[len(base) :]
        if terms[: len(base)] != base or any(
            cal != "per_kind" or not str(t).startswith(KIND_PREFIX) for t in kinds
        ):
            raise damaged("terms", f"{base} for calibration {cal}", terms)
        check_range("weights", state["weights"], 0, LATENCY_RANGE_MS[1], NONNEGATIVE, len(terms))
        mean_weight = [state.get("kind_mean_weight", 0.0)]
        check_range("kind_mean_weight", mean_weight, 0, LATENCY_RANGE_MS[1], NONNEGATIVE)
        return cls(op_model, **params).restore(state, ["weights"], kind_mean_weight=0.0)
