"""Noise-floor rows: as measured, and with the drift between the passes divided out."""

import numpy as np
import pytest

from latbench.predictors.data import NetworkData
from latbench.predictors.report import (
    NOISE_FLOOR,
    NOISE_FLOOR_CORRECTED,
    evaluate_networks,
    pass_drift,
)


def _data(corrected: bool) -> NetworkData:
    truth = np.linspace(1.0, 5.0, 20)
    d1, d2 = np.full(20, 1.0), np.full(20, 1.12)  # pass 2: the whole machine 12 % slower
    if corrected:  # corrected columns: the slow-down already divided out
        return NetworkData(
            [None] * 20, truth, truth.copy(), drift=d1, repeat_drift=d2, corrected=True
        )
    return NetworkData([None] * 20, truth, truth * 1.12, drift=d1, repeat_drift=d2)


@pytest.mark.parametrize("corrected", [False, True])
def test_the_floor_after_drift_correction_removes_a_whole_machine_slowdown(corrected):
    data = _data(corrected)
    report = evaluate_networks({}, data)
    assert report[NOISE_FLOOR]["within_10pct"] == 0.0  # 12 % apart as measured
    assert report[NOISE_FLOOR_CORRECTED]["within_5pct"] == 1.0
    assert pass_drift(data) == pytest.approx(1.12)


def test_without_a_reference_there_is_one_floor_and_no_drift():
    data = NetworkData([None] * 3, np.ones(3), np.ones(3) * 1.01)
    assert set(evaluate_networks({}, data)) == {NOISE_FLOOR}
    assert pass_drift(data) is None
