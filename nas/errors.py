"""Errors raised by the searches; all are ``LatbenchError`` so the CLI reports them in one line."""

from __future__ import annotations

from latbench.errors import LatbenchError


class SearchError(LatbenchError, ValueError):
    """A search given inconsistent inputs (shapes, costs, bands, budgets)."""


class CostError(SearchError):
    """A cost model returned costs the searches cannot use (wrong length, NaN, negative)."""
