"""Noise-floor rows: as measured, and with the drift between the passes divided out."""

import numpy as np
import pytest

from latbench.archs import sample_architectures
from latbench.predictors.data import NetworkData
from latbench.predictors.report import (
    NOISE_FLOOR,
    NOISE_FLOOR_CORRECTED,
    evaluate_networks,
    held_out,
    pass_drift,
    passes_share_rounds,
    scatter_png,
)
from latbench.predictors.transfer import arch_digest


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


def test_passes_in_the_same_rounds_have_one_floor_and_no_drift_to_divide_out():
    """measure-nets --repeat 2 interleaves the passes round by round: both read one reference,
    and a second, 'drift-corrected' floor row only repeated the first."""
    truth, drift = np.linspace(1.0, 5.0, 20), np.linspace(1.0, 1.3, 20)
    data = NetworkData(
        [None] * 20, truth, truth * 1.02, drift=drift, repeat_drift=drift.copy(), corrected=True
    )
    assert passes_share_rounds(data) and pass_drift(data) == 1.0
    report = evaluate_networks({}, data)
    assert set(report) == {NOISE_FLOOR} and report[NOISE_FLOOR]["within_5pct"] == 1.0
    assert not passes_share_rounds(_data(corrected=True))


def test_without_a_reference_there_is_one_floor_and_no_drift():
    data = NetworkData([None] * 3, np.ones(3), np.ones(3) * 1.01)
    assert set(evaluate_networks({}, data)) == {NOISE_FLOOR}
    assert pass_drift(data) is None and not passes_share_rounds(data)


def test_the_scatter_plot_is_written_at_the_path_named_and_nowhere_else(tmp_path):
    """savefig(path) appended .png to a name without a suffix: --plot FOLDER wrote FOLDER.png
    beside it and said 'scatter plot -> FOLDER'."""
    y = np.array([1.0, 2.0, 3.0])
    folder = tmp_path / "plots"
    folder.mkdir()
    with pytest.raises(OSError, match="Is a directory"):
        scatter_png(folder, y, {"p": y})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plots"] and not any(folder.iterdir())
    assert scatter_png(folder / "noext", y, {"p": y}).read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in folder.iterdir()] == ["noext"]


def test_leaving_out_the_shots_leaves_out_their_drift_readings_too():
    """A transfer predictor's shots are not scored; the drift arrays kept all rows, and a table
    whose passes read different references ended in a numpy broadcast error."""
    archs = sample_architectures("nasbench201", 8, "small", seed=0)
    truth = np.linspace(1.0, 5.0, 8)
    d1, d2 = np.linspace(1.0, 1.1, 8), np.linspace(1.05, 1.2, 8)
    data = NetworkData(archs, truth, truth * 1.1, drift=d1, repeat_drift=d2)
    held, left_out = held_out(data, [arch_digest(a) for a in archs[:2]])
    assert left_out == 2 and len(held.archs) == 6
    assert np.array_equal(held.repeat_drift, d2[2:]) and np.array_equal(held.drift, d1[2:])
    assert set(evaluate_networks({}, held)) == {NOISE_FLOOR, NOISE_FLOOR_CORRECTED}
