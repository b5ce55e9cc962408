"""Few-shot transfer to a model-zoo column: whole models (timm) on a device from k shots.

A model zoo (``latbench.importing_timm``) knows ~1,400 models by whole-model features
(``latbench.model_features.FEATURES``, per image) and their latencies on other devices (source
columns). ``ModelTransferPredictor`` regresses the target's log latency per image, with log
batch, on one of ``CANDIDATES`` (docs/timm-import.md) as a ridge on standardised regressors,
candidate and α chosen by leave-one-out on the shots (``transfer_fit.select``). A model a
source lacks gets its value predicted from features (``SourceColumn``). Latencies in and out
are ms per forward pass of the row's batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from latbench.errors import LatbenchError
from latbench.model_features import FEATURES
from latbench.predictors.base import Predictor, check_param
from latbench.predictors.learned import FEATURE_MAX
from latbench.predictors.metrics import fit_metrics
from latbench.predictors.persist import (
    check_choice,
    check_numbers,
    check_range,
    check_strings,
    check_type,
    damaged,
    persistable,
)
from latbench.predictors.transfer import arch_digest
from latbench.predictors.transfer_fit import Fitter, select
from latbench.statistics import LOG_LATENCY_RANGE

CANDIDATES = ("loglinear", "features", "source", "source-nearest", "source+features")
MODEL_METHODS = ("auto", *CANDIDATES)
ALPHAS = tuple(float(a) for a in 10.0 ** np.arange(-6.0, 4.0, 0.5))
"""Ridge strengths tried (on standardised regressors, × the number of shots)."""
LOGLINEAR = ("flops", "params", "activations")
SIMPLEST_FIRST = ("source-nearest", "source", "loglinear", "features", "source+features")
"""Candidates by their number of regressors (2, 1 + sources, 4, 20, 20 + sources)."""
SIMPLER_MARGIN = 0.05
"""A simpler candidate is kept unless a richer one's LOO RMS relative error is over 5 %
(relative) lower: with 10-50 shots a richer fit's edge is mostly noise."""
MIN_SHOTS = 5


def log_features(features: np.ndarray) -> np.ndarray:
    """log(1 + x) of every feature (negative values clipped to 0)."""
    return np.log1p(np.maximum(features, 0.0))


def ridge(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge on standardised columns: returns (weights, [mean, sd, intercept]) so that
    ``predict = ((X - mean) / sd) @ w + intercept``. ``alpha`` is × len(y)."""
    mu = X.mean(axis=0)
    sd = X.std(axis=0)
    sd[sd < 1e-12] = 1.0  # a constant column (e.g. one batch size): all zeros, weight 0
    Z = (X - mu) / sd
    w = np.linalg.solve(Z.T @ Z + alpha * len(y) * np.eye(Z.shape[1]), Z.T @ (y - y.mean()))
    return w, np.vstack([mu, sd, np.full_like(mu, y.mean())])


def ridge_predict(X: np.ndarray, w: np.ndarray, stats: np.ndarray) -> np.ndarray:
    return ((X - stats[0]) / stats[1]) @ w + stats[2, 0]


def as_models(
    items: Any, feature_names: Sequence[str]
) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """Keys (``model@img_size``), features (n, len(FEATURES)) per image, batch (n,), and the
    shot ids ``evaluate`` leaves out, of a ``latbench.importing_timm.ModelNetworks`` or
    Architectures of space ``timm`` (``meta["img_size"]``, ``["batch"]``, ``["features"]``).
    Raises ``LatbenchError`` for any other architecture."""
    if hasattr(items, "features") and hasattr(items, "keys"):
        return (
            list(items.keys),
            np.asarray(items.features, dtype=np.float64),
            np.asarray(items.batch, dtype=np.float64),
            list(items.keys),
        )

    keys, feats, batch = [], [], []
    for arch in items:
        meta = getattr(arch, "meta", {})
        if getattr(arch, "space", None) != "timm" or "features" not in meta:
            raise LatbenchError(
                "ModelTransferPredictor predicts whole models of an imported zoo (space timm, "
                f"with features); got {getattr(arch, 'space', type(arch).__name__)!r}"
            )
        keys.append(f"{arch.name}@{int(meta['img_size'])}")
        feats.append([float(meta["features"][f]) for f in feature_names])
        batch.append(float(meta["batch"]))
    return (
        keys,
        np.array(feats, dtype=np.float64).reshape(len(keys), -1),
        np.array(batch),
        [arch_digest(a) for a in items],
    )


@dataclass
class SourceColumn:
    """One source device: log ms per image of each model it measured (``key`` =
    ``model@img_size``), and a ridge from features to it for the models it lacks."""

    device: str
    log_ms: dict[str, float]
    w: np.ndarray
    stats: np.ndarray

    @classmethod
    def fit(
        cls,
        device: str,
        keys: Sequence[str],
        features: np.ndarray,
        ms_per_image: np.ndarray,
        alpha: float = 1e-3,
    ) -> SourceColumn:
        if len(keys) < MIN_SHOTS:
            raise LatbenchError(f"source {device!r} has {len(keys)} models; need >= {MIN_SHOTS}")
        logs = np.log(np.asarray(ms_per_image, dtype=np.float64))
        w, stats = ridge(log_features(features), logs, alpha)
        return cls(device, dict(zip(keys, logs.tolist())), w, stats)

    def values(self, keys: Sequence[str], features: np.ndarray) -> tuple[np.ndarray, int]:
        """log ms per image of each model, and how many were predicted from features."""
        known = np.array([k in self.log_ms for k in keys])
        out = np.empty(len(keys))
        out[known] = [self.log_ms[k] for k, ok in zip(keys, known) if ok]
        if not known.all():
            out[~known] = ridge_predict(log_features(features[~known]), self.w, self.stats)
        return out, int((~known).sum())


@persistable
@dataclass(repr=False, eq=False)
class ModelTransferPredictor(Predictor):
    """Whole-model latency (ms per batch) on a target device from k shots, with source
    columns of other devices (see the module docstring)."""

    unit = "ms"
    input_level = "network"
    fitted_attr = "method_"
    fitted_params = ("sources",)
    state_keys = (
        *("method_", "alpha_", "cv_scores", "nearest", "w", "stats", "residuals", "shots"),
        *("n_shots", "fit_metrics"),
    )

    feature_names: Sequence[str] = ()
    sources: Sequence[SourceColumn] = ()
    method: str = "auto"
    device: str = ""
    alphas: Sequence[float] = ALPHAS

    def _design(
        self, which: str, keys: Sequence[str], features: np.ndarray, batch: np.ndarray
    ) -> np.ndarray:
        parts = [np.log(np.asarray(batch, dtype=np.float64))[:, None]]
        if which == "loglinear":
            cols = [list(self.feature_names).index(f) for f in LOGLINEAR]
            parts.append(np.log(np.maximum(features[:, cols], 1.0)))
        elif which in ("features", "source+features"):
            parts.append(log_features(features))
        if which.startswith("source"):
            parts.append(np.stack([s.values(keys, features)[0] for s in self.sources], axis=1))
        return np.concatenate(parts, axis=1)

    @staticmethod
    def _nearest(X: np.ndarray, target: np.ndarray) -> int:
        """Index of the source (columns 1..) correlating best with the target on these rows."""
        corr = [
            np.corrcoef(X[:, 1 + j], target)[0, 1] if X[:, 1 + j].std() > 0 else -1.0
            for j in range(X.shape[1] - 1)
        ]
        return int(np.nanargmax(corr))

    def fit(self, X: Any, y: Sequence[float] | np.ndarray) -> ModelTransferPredictor:
        """Fit on the shots: models ``X`` (``as_models``) measured on the target as ``y``
        (ms per batch, one each)."""
        check_param("method", self.method, MODEL_METHODS)
        keys, features, batch, ids = as_models(X, self.feature_names)
        y = np.asarray(y, dtype=np.float64)
        if len(y) != len(keys) or len(y) < MIN_SHOTS or not np.all(y > 0):
            raise LatbenchError(
                f"model transfer needs >= {MIN_SHOTS} models measured on the target, one "
                f"positive latency each; got {len(keys)} models, {len(y)} values"
            )
        wanted = [
            c
            for c in CANDIDATES
            if self.method in ("auto", c) and (self.sources or not c.startswith("source"))
        ]
        if not wanted:
            raise LatbenchError(
                f"method {self.method!r} needs source columns (other devices' "
                "networks tables of the same models)"
            )
        designs = {c: self._design(c, keys, features, batch) for c in wanted}
        target = np.log(y / batch)

        def fitter(X: np.ndarray, nearest: bool) -> Fitter:
            def fit(train: np.ndarray, alpha: float) -> Any:
                cols = (
                    [0, 1 + self._nearest(X[train], target[train])]
                    if nearest
                    else list(range(X.shape[1]))
                )
                w, stats = ridge(X[train][:, cols], target[train], alpha)
                return lambda rows: np.exp(ridge_predict(X[rows][:, cols], w, stats)) * batch[rows]

            return fit

        per = {
            c: select({c: (fitter(designs[c], c == "source-nearest"), self.alphas)}, y)
            for c in sorted(wanted, key=SIMPLEST_FIRST.index)
        }
        scores = {c: ch.scores[c] for c, ch in per.items()}
        best = min(scores.values())
        choice = next(ch for c, ch in per.items() if scores[c] <= best * (1 + SIMPLER_MARGIN))
        self.method_, self.alpha_, self.cv_scores_ = choice.method, choice.alpha, scores
        self.residuals_ = choice.residuals
        D = designs[choice.method]
        self.nearest_ = self._nearest(D, target) if choice.method == "source-nearest" else -1
        self.w_, self.stats_ = ridge(self._columns(D), target, choice.alpha)
        self.shots_ = ids  # arch digests (Architectures) or keys: evaluate leaves them out
        self.n_shots_ = len(y)
        self.fit_metrics_ = fit_metrics(self.predict(X), y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """ms per forward pass of each model's batch on the target (``as_models`` items)."""
        self._check_fitted("call fit(models, latency_ms) with models measured on the target")
        keys, features, batch, _ = as_models(X, self.feature_names)
        X = self._columns(self._design(self.method_, keys, features, batch))
        return np.exp(ridge_predict(X, self.w_, self.stats_)) * batch

    def _columns(self, X: np.ndarray) -> np.ndarray:
        """The design's columns the fitted method uses (log batch + nearest source, or all)."""
        return X[:, [0, 1 + self.nearest_]] if self.nearest_ >= 0 else X

    def imputed(self, items: Any) -> dict[str, int]:
        """Per source device: how many of ``items`` it lacks (predicted from features)."""
        keys, features, _, _ = as_models(items, self.feature_names)
        return {s.device: s.values(keys, features)[1] for s in self.sources}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ModelTransferPredictor:
        p = check_type("params", state["params"], dict, "an object")
        check_choice("params.method", p.get("method"), MODEL_METHODS)
        check_strings("params.feature_names", p.get("feature_names"), "FEATURES names", FEATURES)
        sources = []
        for i, s in enumerate(check_type("sources", state["sources"], list, "a list")):
            log_ms = check_type(f"sources[{i}].log_ms", s["log_ms"], dict, "an object")
            check_range(f"sources[{i}].log_ms", list(log_ms.values()), *LOG_LATENCY_RANGE, "log ms")
            w, stats = _check_ridge(f"sources[{i}].", s["w"], s["stats"])
            sources.append(SourceColumn(s["device"], log_ms, w, stats))
        check_choice("method_", state["method_"], CANDIDATES)
        _check_ridge("", state["w"], state["stats"])
        check_numbers("residuals", state["residuals"])
        obj = cls(sources=sources, **p).restore(state, ("w", "stats", "residuals"))
        if not -1 <= obj.nearest_ < len(sources):
            raise damaged("nearest", f"-1 or a source index below {len(sources)}", obj.nearest_)
        return obj


RIDGE = (
    "a ridge on log features: weights and column means within +-100, standard deviations in "
    "(0, 100], an intercept of log ms"
)


def _check_ridge(where: str, w: Any, stats: Any) -> tuple[np.ndarray, np.ndarray]:
    """``ridge``'s weights and ``[mean, sd, intercept]`` rows as saved: shapes and ranges."""

    n = len(check_range(f"{where}w", w, -100, 100, RIDGE))
    rows = check_type(f"{where}stats", stats, list, RIDGE)
    if len(rows) != 3:
        raise damaged(f"{where}stats", f"3 rows of {n} ([mean, sd, intercept])", len(rows))
    check_range(f"{where}stats", rows[0], -FEATURE_MAX, FEATURE_MAX, RIDGE, n)
    check_range(f"{where}stats", rows[1], 1e-12, FEATURE_MAX, RIDGE, n)
    check_range(f"{where}stats", rows[2], *LOG_LATENCY_RANGE, RIDGE, n)
    return np.array(w, dtype=np.float64), np.array(rows, dtype=np.float64)
