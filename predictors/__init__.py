"""Predictors: from lookup tables to latency and memory predictions (scikit-learn style)."""

from predictors.base import CostModel

__all__ = ["CostModel"]
