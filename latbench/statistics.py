"""The latency statistics a predictor can be fitted on, and which one a fitted predictor used
(``fit``, ``evaluate`` and ``validate`` compare a prediction with that one). No heavy imports."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

STATISTICS = {
    "median": "latency_median_ms",
    "min": "latency_min_ms",
    "min-corrected": "latency_min_corrected_ms",
    "median-corrected": "latency_median_corrected_ms",
}
"""The latency columns a predictor can be fitted on, by command-line name (``-corrected``:
divided by the machine's drift)."""

DEFAULT_STATISTIC = STATISTICS["median"]

LATENCY_RANGE_MS = (1e-6, 1e9)
"""The physical range of a latency, ms (1 ns to 11.6 days): outside is a wrong unit or a corrupt
file."""
LOG_LATENCY_RANGE = (math.log(LATENCY_RANGE_MS[0]), math.log(LATENCY_RANGE_MS[1]))
"""``LATENCY_RANGE_MS`` in log ms: the range of a fitted log-latency term."""
LOG_LATENCY_SPAN = LOG_LATENCY_RANGE[1] - LOG_LATENCY_RANGE[0]
"""Its width: the largest log-ms coefficient or intercept a fit can need."""
CORRECTED_SUFFIX = "_corrected_ms"


def fitted_statistic(info: Mapping[str, Any] | None) -> str:
    """The latency column a predictor was fitted on, from its ``info_`` (default: the median)."""
    return (info or {}).get("statistic") or DEFAULT_STATISTIC


def is_corrected(statistic: str) -> bool:
    """A drift-corrected statistic (needs a drift reference measured beside it)."""
    return statistic.endswith(CORRECTED_SUFFIX)


def raw_statistic(statistic: str) -> str:
    """The raw statistic a drift-corrected one divides by the drift (itself when raw)."""
    return (
        statistic.removesuffix(CORRECTED_SUFFIX) + "_ms" if is_corrected(statistic) else statistic
    )
