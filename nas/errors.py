"""Errors raised by the searches; all are ``LatbenchError`` so the CLI reports them in one line."""

from __future__ import annotations

import math
from typing import SupportsFloat

from latbench.errors import LatbenchError


class SearchError(LatbenchError, ValueError):
    """A search given inconsistent inputs (shapes, costs, bands, budgets)."""


class CostError(SearchError):
    """A cost model returned costs the searches cannot use (wrong length, NaN, negative)."""


class NonFiniteError(SearchError):
    """A search produced NaN or ±inf (a loss, a cost, a latency): never reported as a result."""


def check_finite(value: SupportsFloat, where: str) -> float:
    """``value`` when it is finite; else ``NonFiniteError`` naming ``where`` it arose (a run,
    a step, a quantity), so that no search prints ``nan``/``inf`` as a result."""
    value = float(value)
    if not math.isfinite(value):
        raise NonFiniteError(
            f"{where} is {value!r}, not a finite number; the search stopped "
            "there instead of reporting it (check the costs' scale, --lam and "
            "the bound)"
        )
    return value
