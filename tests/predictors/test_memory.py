"""Training-memory predictor: calibration from a table, parts labelled, JSON round trip, screen."""

from __future__ import annotations

import numpy as np
import pytest

from latbench.architecture import INPUT, Architecture, Edge
from latbench.archs import sample_architectures
from latbench.memory.steps import TrainConfig
from latbench.memory.table import measure_into_table
from latbench.notfitted import NotFittedError
from latbench.opspec import OpSpec
from latbench.predictors import persist
from latbench.predictors.memory import TrainingMemoryPredictor, calibrated
from latbench.predictors.memory_screen import MemoryScreen
from latbench.tables import read_table


def chain(channels: int, size: int = 16) -> Architecture:
    op = OpSpec.make("conv", (1, channels, size, size, size), norm="in", act="relu")
    return Architecture("hand3d", (Edge((INPUT,), "n1", op), Edge(("n1",), "n2", op)), "n2")


def fake_gpu_table(tmp_path, offset_mib: float):
    """A memory table whose 'measurements' are the model plus a known per-device offset."""
    model = TrainingMemoryPredictor("reserved").fit([], [])

    def measure(subject):
        return {
            "status": "ok",
            "error": "",
            "peak_reserved_mib": model.predict([subject])[0] + offset_mib,
        }

    path = tmp_path / "memory.csv"
    measure_into_table([chain(4), chain(8), chain(12)], path, measure, "cpu", TrainConfig())
    return read_table(path)


def test_fit_recovers_the_device_offset_and_labels_the_parts(tmp_path):
    model = calibrated(TrainingMemoryPredictor("reserved"), fake_gpu_table(tmp_path, 300.0))
    assert model.offset_mib_ == pytest.approx(300.0) and model.n_calibration_ == 3
    est = model.explain([chain(6)])[0]
    assert est.value_mib == pytest.approx(est.modelled_mib + 300.0)
    assert "calibrated: median residual of 3 measurements" in est.parts["offset"]
    assert "caching-allocator" in est.parts["allocator"]


def test_unfitted_errors_and_uncalibrated_says_so():
    with pytest.raises(NotFittedError, match="fit"):
        TrainingMemoryPredictor().explain([chain(4)])[0]
    est = TrainingMemoryPredictor("rss_growth", workspace="cpu").fit([], []).explain([chain(4)])[0]
    assert est.offset_mib == 0 and "not calibrated" in est.parts["offset"]


def test_json_round_trip_predicts_identically(tmp_path):
    model = calibrated(TrainingMemoryPredictor("reserved"), fake_gpu_table(tmp_path, 120.0))
    path = persist.save(model, tmp_path / "memory.json", device="cpu-test")
    again = persist.load(path)
    archs = [chain(4), chain(10)]
    np.testing.assert_array_equal(again.predict(archs), model.predict(archs))
    assert "pickle" not in path.read_text()


@pytest.mark.slow
def test_screen_runs_full_traces_only_near_the_band_edges():
    model = TrainingMemoryPredictor("reserved").fit([], [])
    cal = sample_architectures("dints", 8, "small", seed=1)
    screen = MemoryScreen(model).fit(cal)
    archs = sample_architectures("dints", 10, "small", seed=2)
    fast = screen.predict(archs)
    target = float(np.median(fast))
    result = screen.set_params(target_mib=target, band_mib=4.0).screen(archs)
    assert 0 < result.n_full < len(archs)
    full = model.predict(archs)
    decided_fast = result.source == "fast"
    # a fast-path decision agrees with the full predictor's (the margin covers the error)
    assert np.array_equal(np.abs(full - target)[decided_fast] <= 4.0, result.kept[decided_fast])


def test_fast_features_use_given_op_terms_over_tracing():
    """Op terms passed in (``MemoryScreen(terms=...)``) replace the traced ones."""
    from latbench.papers import MIB
    from latbench.predictors.memory_screen import _training_op, fast_features

    arch, config = chain(8), TrainConfig()
    keys = {_training_op(e.op, config.batch)[0].key for e in arch.edges}
    terms = {k: (2 * MIB, 0.0) for k in keys}
    traced = fast_features(arch, config)
    given = fast_features(arch, config, terms)
    assert given[0] == 2.0 * len(arch.edges) and given[1] == 0.0
    assert traced[0] != given[0]
    np.testing.assert_allclose(given[2:], traced[2:])


def nvml_table(tmp_path, columns):
    """A memory table whose rows carry only ``columns(model_mib) -> fields`` (fake NVML rows
    as a container sees them: per-process memory missing)."""
    model = TrainingMemoryPredictor("nvml").fit([], [])

    def measure(subject):
        return {"status": "ok", "error": "", **columns(model.predict([subject])[0])}

    path = tmp_path / "memory.csv"
    measure_into_table([chain(4), chain(8), chain(12)], path, measure, "cpu", TrainConfig())
    return read_table(path)


def test_container_rows_calibrate_on_the_device_delta_and_say_so(tmp_path):
    table = nvml_table(
        tmp_path,
        lambda m: {
            "nvml_process_mib": None,
            "context_mib": 540.0,
            "nvml_device_delta_mib": m + 540.0,
            "peak_reserved_mib": m,
        },
    )
    with pytest.warns(UserWarning, match="3 of 3 measured row.* lack per-process NVML"):
        model = calibrated(TrainingMemoryPredictor("nvml"), table)
    assert model.n_calibration_ == 3 and model.offset_mib_ == pytest.approx(540.0)
    offset = model.explain([chain(6)])[0].parts["offset"]
    assert "device-level delta" in offset and "3 row(s) lacked per-process" in offset
    assert "no measurements given" not in offset


def test_container_rows_without_device_delta_use_reserved_plus_context(tmp_path):
    table = nvml_table(tmp_path, lambda m: {"context_mib": 500.0, "peak_reserved_mib": m + 2})
    with pytest.warns(UserWarning, match="allocator reserved peak"):
        model = calibrated(TrainingMemoryPredictor("nvml"), table)
    assert model.offset_mib_ == pytest.approx(502.0)
    assert "allocator reserved peak + CUDA context" in model.explain([chain(6)])[0].parts["offset"]


def test_rows_with_nothing_usable_are_not_called_no_measurements(tmp_path):
    table = nvml_table(tmp_path, lambda m: {})
    with pytest.warns(UserWarning, match="lack per-process"):
        model = calibrated(TrainingMemoryPredictor("nvml"), table)
    offset = model.explain([chain(6)])[0].parts["offset"]
    assert model.n_calibration_ == 0 and "none of the table's 3 rows" in offset


def with_alloc_conf(meta, conf):
    """A table's side-car (read-only) with another ``protocol.alloc_conf``."""
    return {**meta, "protocol": {**meta["protocol"], "alloc_conf": conf}}


def test_alloc_conf_is_modelled_or_refused(tmp_path):
    from latbench.errors import LatbenchError
    from latbench.memory.gpu import alloc_conf, check_alloc_conf

    assert alloc_conf({"PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True"}) == (
        "expandable_segments:True"
    )
    assert check_alloc_conf("") is None and check_alloc_conf("max_split_size_mb:128") == 128
    assert check_alloc_conf("expandable_segments:False") is None  # the default
    table = fake_gpu_table(tmp_path, 10.0)
    table.attrs["meta"] = with_alloc_conf(table.attrs["meta"], "expandable_segments:True")
    with pytest.raises(LatbenchError, match="does not model expandable_segments:True"):
        calibrated(TrainingMemoryPredictor("reserved"), table)
    table.attrs["meta"] = with_alloc_conf(table.attrs["meta"], "max_split_size_mb:64")
    assert calibrated(TrainingMemoryPredictor("reserved"), table).max_split_mib == 64
    TrainingMemoryPredictor("allocated").fit([], [])  # allocated does not depend on it


def test_nvml_process_memory_of_a_pid_nvml_cannot_see_is_none():
    from types import SimpleNamespace

    from latbench.memory.gpu import NvmlSampler, nvml_process_bytes

    host = SimpleNamespace(pid=987654, usedGpuMemory=600 * 2**20)  # a host-namespace pid
    fake = SimpleNamespace(
        nvmlDeviceGetComputeRunningProcesses=lambda h: [host],
        nvmlDeviceGetGraphicsRunningProcesses=lambda h: [],
        nvmlDeviceGetMemoryInfo=lambda h: SimpleNamespace(used=2**30),
    )
    assert nvml_process_bytes(fake, None, 4242) is None
    assert nvml_process_bytes(fake, None, 987654) == 600 * 2**20
    sampler = NvmlSampler(fake, "handle", 4242)
    sampler.sample()
    assert sampler.process_peak is None and sampler.device_peak == 2**30


def test_leave_one_out_residuals_are_the_errors_of_refits_without_each_point():
    from latbench.predictors.memory_screen import loo_residuals

    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(size=(9, 3)), np.ones(9)])
    y = x @ np.array([1.0, -2.0, 0.5, 3.0]) + rng.normal(scale=0.3, size=9)
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    refits = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        c = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
        refits.append(y[i] - x[i] @ c)
    np.testing.assert_allclose(loo_residuals(x, y, coef), refits, rtol=1e-9)
    assert np.abs(refits).max() > np.abs(y - x @ coef).max()  # wider than in-sample


def test_a_screen_needs_more_calibration_networks_than_fast_features():
    from latbench.predictors.memory_screen import MIN_CALIBRATION

    model = TrainingMemoryPredictor("reserved").fit([], [])
    with pytest.raises(ValueError, match=f"needs at least {MIN_CALIBRATION}"):
        MemoryScreen(model).fit([chain(c) for c in (2, 4, 6)])


def test_a_screen_calibrated_on_repeats_of_one_network_traces_every_decision():
    """Copies of one network: leaving one copy out is no held-out error (the margin was
    ~1e-14 MiB and every decision took the fast path, 3 of 13 wrong on DiNTS small)."""
    model = TrainingMemoryPredictor("reserved").fit([], [])
    screen = MemoryScreen(model).fit([chain(4)] * 8)
    assert screen.margin_mib_ == np.inf
    result = screen.set_params(target_mib=1.0, band_mib=0.5).screen([chain(c) for c in (2, 6, 10)])
    assert list(result.source) == ["full"] * 3


def test_a_network_is_traced_once_per_configuration(monkeypatch):
    import latbench.predictors.memory as memory

    calls = []
    real = memory.trace_training
    monkeypatch.setattr(
        memory, "trace_training", lambda *a, **k: calls.append(a[0]) or real(*a, **k)
    )
    monkeypatch.setattr(memory, "_BASIS_CACHE", {})
    arch = chain(5)
    reserved = TrainingMemoryPredictor("reserved").fit([], [])
    first = reserved.predict([arch, arch])
    assert len(calls) == 1 and first[0] == first[1]
    TrainingMemoryPredictor("reserved", TrainConfig(optimizer="sgd")).fit([], []).explain([arch])[0]
    assert len(calls) == 2  # another training configuration is another trace


def test_no_nvml_handle_means_no_nvml_readings():
    """Where the GPU's NVML handle cannot be told apart (``device.nvml_handle`` is None) the
    sampler reads nothing rather than another GPU's memory."""
    from types import SimpleNamespace

    from latbench.memory.gpu import NvmlSampler

    fake = SimpleNamespace(nvmlDeviceGetMemoryInfo=lambda h: SimpleNamespace(used=2**30))
    assert NvmlSampler(fake, None, 4242).read() == (None, None)
