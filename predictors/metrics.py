"""Accuracy of predictions against measurements (or of a second measurement: the noise
floor): MAPE, shares within ±5 % / ±10 %, Kendall τ and Spearman ρ."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats

from latbench.errors import LatbenchError

WITHIN_BANDS = (0.05, 0.10)  # relative-error bands reported as "share within ±x"


def accuracy(
    predicted_ms: Sequence[float] | np.ndarray, measured_ms: Sequence[float] | np.ndarray
) -> dict[str, float]:
    """MAPE (%), share within ±5 % / ±10 % (fractions), Kendall τ, Spearman ρ and n. Raises
    ``LatbenchError`` unless both are 1-D of one length >= 2, finite, measurements > 0."""
    pred = np.asarray(predicted_ms, dtype=np.float64)
    meas = np.asarray(measured_ms, dtype=np.float64)
    if pred.shape != meas.shape or pred.ndim != 1:
        raise LatbenchError(
            f"predictions {pred.shape} and measurements {meas.shape} must be "
            "1-D arrays of the same length"
        )
    if len(meas) < 2 or not np.all(np.isfinite(pred)) or not np.all(meas > 0):
        raise LatbenchError(
            f"need >= 2 finite predictions and positive measurements; got "
            f"{len(meas)} values, min measured {meas.min(initial=np.nan)}"
        )
    rel = np.abs(pred - meas) / meas
    out = {"n": float(len(meas)), "mape_pct": float(100 * rel.mean())}
    for band in WITHIN_BANDS:  # exactly 10 % off is within ±10 % (1.1 / 1.0 - 1 is 0.1 + 1e-16)
        out[f"within_{round(100 * band)}pct"] = float(np.mean(rel <= band * (1 + 1e-9)))
    out["kendall_tau"] = float(stats.kendalltau(pred, meas).statistic)
    out["spearman_rho"] = float(stats.spearmanr(pred, meas).statistic)
    return out


def fit_metrics(
    predicted_ms: Sequence[float] | np.ndarray, measured_ms: Sequence[float] | np.ndarray
) -> dict[str, float | None]:
    """``accuracy`` of a fit on its own shots without warnings; a rank correlation that is
    undefined (a map clamped flat ranks nothing; scipy gives NaN) is ``None``, written
    ``null`` in a predictor file and printed as ``report.UNDEFINED_RANK``, never as 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metrics = accuracy(predicted_ms, measured_ms)
    return {k: None if np.isnan(v) else v for k, v in metrics.items()}
