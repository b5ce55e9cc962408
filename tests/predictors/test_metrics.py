"""Accuracy metrics as the field reports them (nn-Meter's ±10 % share, Kendall τ, Spearman ρ)."""

import numpy as np
import pytest

from latbench.predictors.metrics import accuracy


def test_exactly_ten_percent_off_is_within_ten_percent_either_way():
    """1.1 / 1.0 - 1 is 0.1 + 1e-16 in floating point: it was counted outside ±10 %, 0.9 inside."""
    measured = np.array([1.0, 2.0, 1.0, 10.0])
    predicted = np.array([1.1, 2.2, 0.9, 12.0])  # +10 %, +10 %, -10 %, +20 %
    m = accuracy(predicted, measured)
    assert m["within_10pct"] == 0.75 and m["within_5pct"] == 0.0
    assert m["mape_pct"] == pytest.approx(12.5)
