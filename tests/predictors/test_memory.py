"""Training-memory predictor: calibration from a table, parts labelled, JSON round trip, screen."""

from __future__ import annotations

import numpy as np
import pytest

from latbench.archs import sample_architectures
from latbench.archs.graph import INPUT, Architecture, Edge
from latbench.errors import NotFittedError
from latbench.memory import TrainConfig
from latbench.memory.table import measure_into_table
from latbench.opspec import OpSpec
from latbench.tables import read_table
from predictors import persist
from predictors.memory import TrainingMemoryPredictor
from predictors.memory_screen import MemoryScreen


def chain(channels: int, size: int = 16) -> Architecture:
    op = OpSpec.make("conv", (1, channels, size, size, size), norm="in", act="relu")
    return Architecture("hand3d", (Edge((INPUT,), "n1", op), Edge(("n1",), "n2", op)), "n2")


def fake_gpu_table(tmp_path, offset_mib: float):
    """A memory table whose 'measurements' are the model plus a known per-device offset."""
    model = TrainingMemoryPredictor("reserved").fit(None)

    def measure(subject):
        return {"status": "ok", "error": "",
                "peak_reserved_mib": model.estimate(subject).value_mib + offset_mib}

    path = tmp_path / "memory.csv"
    measure_into_table([chain(4), chain(8), chain(12)], path, measure, "cpu", TrainConfig())
    return read_table(path)


def test_fit_recovers_the_device_offset_and_labels_the_parts(tmp_path):
    model = TrainingMemoryPredictor("reserved").fit(fake_gpu_table(tmp_path, 300.0))
    assert model.offset_mib_ == pytest.approx(300.0) and model.n_calibration_ == 3
    est = model.estimate(chain(6))
    assert est.value_mib == pytest.approx(est.modelled_mib + 300.0)
    assert "calibrated: median residual of 3 measurements" in est.parts["offset"]
    assert "caching-allocator" in est.parts["allocator"]


def test_unfitted_errors_and_uncalibrated_says_so():
    with pytest.raises(NotFittedError, match="fit"):
        TrainingMemoryPredictor().estimate(chain(4))
    est = TrainingMemoryPredictor("rss_growth", workspace="cpu").fit(None).estimate(chain(4))
    assert est.offset_mib == 0 and "not calibrated" in est.parts["offset"]


def test_json_round_trip_predicts_identically(tmp_path):
    model = TrainingMemoryPredictor("reserved").fit(fake_gpu_table(tmp_path, 120.0))
    path = persist.save(model, tmp_path / "memory.json", device="cpu-test")
    again = persist.load(path)
    archs = [chain(4), chain(10)]
    np.testing.assert_array_equal(again.predict_archs(archs), model.predict_archs(archs))
    assert "pickle" not in path.read_text()


@pytest.mark.slow
def test_screen_runs_full_traces_only_near_the_band_edges():
    model = TrainingMemoryPredictor("reserved").fit(None)
    cal = sample_architectures("dints", 8, "small", seed=1)
    screen = MemoryScreen(model).fit(cal)
    archs = sample_architectures("dints", 12, "small", seed=2)
    fast = screen.fast_mib(archs)
    target = float(np.median(fast))
    result = screen.screen(archs, target, band_mib=2.0)
    assert 0 <= result.n_full < len(archs)
    full = model.predict_archs(archs)
    decided_fast = result.source == "fast"
    # a fast-path decision agrees with the full predictor's (the margin covers the error)
    assert np.array_equal(np.abs(full - target)[decided_fast] <= 2.0, result.kept[decided_fast])


def test_op_terms_round_trip_through_an_estimated_memory_table(tmp_path):
    from latbench.memory.terms import load_op_terms, write_op_terms
    from predictors.memory_screen import fast_features

    arch = chain(8)
    config = TrainConfig()
    path = write_op_terms([e.op.replace(mode="train") for e in arch.edges], tmp_path / "t.csv",
                          config)
    df = read_table(path)
    assert set(df["source"]) == {"estimated"} and "traced" in df["parts"].iloc[0]
    terms = load_op_terms(path)
    np.testing.assert_allclose(fast_features(arch, config, terms), fast_features(arch, config))


@pytest.mark.slow
def test_parallel_full_predictions_equal_serial():
    from predictors.memory_screen import full_predictions

    model = TrainingMemoryPredictor("reserved").fit(None)
    archs = [chain(c) for c in (2, 4, 6, 8)]
    np.testing.assert_array_equal(full_predictions(model, archs, n_jobs=2),
                                  model.predict_archs(archs))
