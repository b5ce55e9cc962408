"""Accuracy reports on held-out whole networks, beside the measurement's own noise floor."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from latbench.atomic import write_atomically
from latbench.predictors.data import NetworkData
from latbench.predictors.metrics import accuracy
from latbench.predictors.transfer import arch_digest
from latbench.tables import refuse_table

METRIC_COLUMNS = ("n", "mape_pct", "within_5pct", "within_10pct", "kendall_tau", "spearman_rho")
METRIC_HEADER = ("predictor", "n", "MAPE %", "within ±5%", "within ±10%", "Kendall τ", "Spearman ρ")
NOISE_FLOOR = "noise floor (repeat 2 vs 1)"
NOISE_FLOOR_CORRECTED = "noise floor, drift-corrected"


def pass_drift(data: NetworkData) -> float | None:
    """How much slower the whole machine ran in pass 2 than in pass 1 (median over networks of
    the drift reference's ratio; 1.085 = 8.5 % slower), or None without a reference."""
    if data.drift is None or data.repeat_drift is None:
        return None
    return float(np.median(data.repeat_drift / data.drift))


def passes_share_rounds(data: NetworkData) -> bool:
    """Whether every network's two passes read the same drift reference (interleaved rounds:
    ``measure-nets --repeat 2 --rounds > 1``), so there is no drift between them."""
    return (
        data.drift is not None
        and data.repeat_drift is not None
        and bool(np.array_equal(data.drift, data.repeat_drift))
    )


def evaluate_networks(
    predicted_ms: Mapping[str, np.ndarray], data: NetworkData
) -> dict[str, dict[str, float]]:
    """Accuracy of each named prediction against pass 1, plus the noise floor rows: pass 2 as
    measured and, when a reference was measured and the passes do not share their rounds,
    with the drift between them divided out (``repeat_ms · drift₁ / drift₂``)."""
    rows = {name: accuracy(pred, data.latency_ms) for name, pred in predicted_ms.items()}
    if data.repeat_ms is None:
        return rows
    as_held = accuracy(data.repeat_ms, data.latency_ms)
    if data.drift is None or data.repeat_drift is None or passes_share_rounds(data):
        rows[NOISE_FLOOR] = as_held
    elif data.corrected:  # raw = corrected · drift
        raw = accuracy(data.repeat_ms * data.repeat_drift, data.latency_ms * data.drift)
        rows[NOISE_FLOOR], rows[NOISE_FLOOR_CORRECTED] = raw, as_held
    else:
        corrected = data.repeat_ms * data.drift / data.repeat_drift
        rows[NOISE_FLOOR] = as_held
        rows[NOISE_FLOOR_CORRECTED] = accuracy(corrected, data.latency_ms)
    return rows


def is_accuracy(metrics: Mapping[str, Any]) -> bool:
    """``metrics`` holds every METRIC_COLUMNS entry (``latbench.predictors.metrics.accuracy``)."""
    return all(k in metrics for k in METRIC_COLUMNS)


UNDEFINED_RANK = "undefined (constant)"  # a constant series' rank correlation (scipy: NaN)


def _rank(value: float | None) -> float | str:
    return UNDEFINED_RANK if value is None or not np.isfinite(value) else round(value, 3)


def metric_rows(report: Mapping[str, Mapping[str, float]]) -> list[list[Any]]:
    """Rows under METRIC_HEADER: name, then METRIC_COLUMNS (shares as percentages; an
    undefined rank correlation as ``UNDEFINED_RANK``)."""
    return [
        [
            name,
            int(m["n"]),
            round(m["mape_pct"], 2),
            f"{100 * m['within_5pct']:.1f}%",
            f"{100 * m['within_10pct']:.1f}%",
            _rank(m["kendall_tau"]),
            _rank(m["spearman_rho"]),
        ]
        for name, m in report.items()
    ]


def json_metrics(report: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, Any]]:
    """``report`` for a JSON file: an undefined value (NaN) as ``null``."""
    return {
        name: {k: (v if np.isfinite(v) else None) for k, v in m.items()}
        for name, m in report.items()
    }


def held_out(data: NetworkData, shots: Sequence[str]) -> tuple[NetworkData, int]:
    """``data`` without the networks whose ``arch_digest`` is in ``shots`` (those a transfer
    predictor was fitted on), and how many were left out."""
    known = set(shots)
    if not known:
        return data, 0
    keep = np.array([arch_digest(a) not in known for a in data.archs])
    if keep.all():
        return data, 0
    return data.rows(np.flatnonzero(keep)), int((~keep).sum())


def scatter_png(
    path: str | os.PathLike[str],
    measured_ms: np.ndarray,
    predicted_ms: Mapping[str, np.ndarray],
    title: str = "",
    xlabel: str = "measured latency (ms, whole network)",
) -> Path:
    """Predicted-vs-measured scatter (log-log, y = x and ±10 % lines) written as a PNG at
    ``path`` itself, whatever its suffix; a folder there is an ``OSError`` naming it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    fig = Figure(figsize=(5.5, 5.0), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    values = [measured_ms, *predicted_ms.values()]
    lo = min(float(np.min(v)) for v in values) * 0.9
    hi = max(float(np.max(v)) for v in values) * 1.1
    line = np.array([lo, hi])
    ax.plot(line, line, "k-", lw=0.8, label="y = x")
    ax.fill_between(line, line * 0.9, line * 1.1, color="0.85", label="±10 %")
    for name, pred in predicted_ms.items():
        ax.scatter(measured_ms, pred, s=8, alpha=0.7, label=name)
    ax.set(
        xscale="log",
        yscale="log",
        xlim=(lo, hi),
        ylim=(lo, hi),
        xlabel=xlabel,
        ylabel="predicted / re-measured (ms)",
        title=title,
    )
    for axis in (ax.xaxis, ax.yaxis):  # 1-2-5 ticks: a narrow range still has labels
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FormatStrFormatter("%g"))
        axis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    p, png = Path(path), io.BytesIO()
    refuse_table(p, "a plot")
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, format="png")  # savefig(path) appends .png to a name without a suffix
    return write_atomically(p, png.getvalue())
