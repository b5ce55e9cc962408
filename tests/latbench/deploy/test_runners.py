"""Runners: one interface, Measurements out, the provider really used, clear install hints."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from deploy_gpu import QUICK, needs_cuda, needs_ort_cuda, needs_ort_trt, needs_trt, ort_has

from latbench.deploy.runners import (
    RunInfo,
    build_engine,
    check_session_providers,
    make_runner,
    require_provider,
)
from latbench.errors import MeasurementError, MissingDependencyError, UnknownNameError
from latbench.timing import Measurement

GPU_HINT = "pip install 'latbench[gpu]'"


def _check(runner, reference, *, backend, engine, tol=1e-4):
    m = runner.measure(QUICK)
    assert isinstance(m, Measurement) and m.n >= 3 and m.median_ms > 0
    assert isinstance(runner.info, RunInfo)
    assert (runner.info.backend, runner.info.engine) == (backend, engine)
    assert runner.info.batch == 1
    out = runner.outputs()[0]
    np.testing.assert_allclose(out.reshape(reference.shape), reference, rtol=tol, atol=tol)
    return m


@pytest.fixture(scope="module")
def reference(exported_nb201):
    import torch

    module, inputs, _ = exported_nb201
    with torch.inference_mode():
        return module(*inputs).numpy()


def test_torch_and_ort_cpu_measure_and_agree(exported_nb201, reference):
    module, inputs, ex = exported_nb201
    torch_runner = make_runner("torch", module=module, inputs=inputs, threads=1)
    _check(torch_runner, reference, backend="torch", engine="torch-eager")
    ort_runner = make_runner("ort", exported=ex, inputs=inputs, threads=1)
    _check(ort_runner, reference, backend="ort", engine="CPUExecutionProvider")
    assert ort_runner.info.options["providers"][0] == "CPUExecutionProvider"
    assert ort_runner.info.transfers_included is False
    assert "onnxruntime" in ort_runner.info.versions


def test_session_that_fell_back_to_cpu_is_refused():
    check_session_providers(
        ["CUDAExecutionProvider", "CPUExecutionProvider"], "CUDAExecutionProvider"
    )
    with pytest.raises(MeasurementError, match="did not use CUDAExecutionProvider"):
        check_session_providers(["CPUExecutionProvider"], "CUDAExecutionProvider")
    with pytest.raises(MeasurementError, match="did not use TensorrtExecutionProvider"):
        check_session_providers(
            ["CUDAExecutionProvider", "CPUExecutionProvider"], "TensorrtExecutionProvider"
        )


def test_missing_gpu_provider_names_the_install_command():
    with pytest.raises(MissingDependencyError, match="CUDAExecutionProvider") as err:
        require_provider(["CPUExecutionProvider"], "CUDAExecutionProvider")
    assert GPU_HINT in str(err.value) and "onnxruntime-gpu" in str(err.value)


@pytest.mark.skipif(ort_has("TensorrtExecutionProvider"), reason="TensorRT EP is installed")
def test_ort_trt_without_onnxruntime_gpu_gives_install_hint(exported_nb201):
    _, inputs, ex = exported_nb201
    with pytest.raises(MissingDependencyError, match="onnxruntime-gpu") as err:
        make_runner("ort-trt", exported=ex, inputs=inputs, device="cuda")
    assert GPU_HINT in str(err.value)


def test_trt_without_tensorrt_gives_install_hint(exported_nb201, no_tensorrt):
    _, inputs, ex = exported_nb201
    with pytest.raises(MissingDependencyError, match="tensorrt is not installed") as err:
        make_runner("trt", exported=ex, inputs=inputs, device="cuda")
    assert GPU_HINT in str(err.value)


def test_unknown_backend_and_bad_precision_are_named(exported_nb201):
    module, inputs, ex = exported_nb201
    with pytest.raises(UnknownNameError, match="ort-trt, torch, trt"):
        make_runner("tflite", module=module, inputs=inputs)
    with pytest.raises(MeasurementError, match="precision 'fp16'.*valid: fp32"):
        make_runner("torch", module=module, inputs=inputs, precision="fp16")
    with pytest.raises(MeasurementError, match="needs exported="):
        make_runner("ort", inputs=inputs)


# -- GPU paths: run where a GPU and the packages are present, skip cleanly elsewhere ----------
@needs_cuda
@pytest.mark.parametrize("graph", [False, True])
def test_torch_cuda_eager_and_graph(exported_nb201, reference, graph):
    module, inputs, _ = exported_nb201
    runner = make_runner("torch", module=module, inputs=inputs, device="cuda", cuda_graph=graph)
    _check(
        runner,
        reference,
        backend="torch",
        engine="torch-cudagraph" if graph else "torch-eager",
        tol=1e-3,
    )
    assert runner.info.timer.startswith("cuda-event")
    module.to("cpu")


@needs_ort_cuda
@pytest.mark.parametrize("transfers", [False, True])
def test_ort_cuda_ep_iobinding(exported_nb201, reference, transfers):
    _, inputs, ex = exported_nb201
    runner = make_runner("ort", exported=ex, inputs=inputs, device="cuda", transfers=transfers)
    _check(runner, reference, backend="ort", engine="CUDAExecutionProvider", tol=1e-3)
    assert runner.info.options["iobinding"] is (not transfers)
    assert runner.info.transfers_included is transfers


@needs_ort_trt
def test_ort_tensorrt_ep_with_caches(exported_nb201, reference, tmp_path):
    _, inputs, ex = exported_nb201
    runner = make_runner("ort-trt", exported=ex, inputs=inputs, device="cuda", cache_dir=tmp_path)
    _check(runner, reference, backend="ort-trt", engine="TensorrtExecutionProvider", tol=1e-2)
    assert any((tmp_path / "ort-trt").iterdir()), "TRT EP wrote no engine/timing cache"


@needs_trt
def test_tensorrt_engine_is_built_once_then_cached(exported_nb201, reference, tmp_path):
    _, inputs, ex = exported_nb201
    first = make_runner("trt", exported=ex, inputs=inputs, device="cuda", cache_dir=tmp_path)
    _check(first, reference, backend="trt", engine="tensorrt", tol=1e-2)
    assert first.info.options["engine_from_cache"] is False
    assert (tmp_path / "trt" / "trt-timing.cache").stat().st_size > 0
    again = make_runner("trt", exported=ex, inputs=inputs, device="cuda", cache_dir=tmp_path)
    assert again.info.options["engine_from_cache"] is True
    with_copies = make_runner(
        "trt", exported=ex, inputs=inputs, device="cuda", cache_dir=tmp_path, transfers=True
    )
    m = _check(with_copies, reference, backend="trt", engine="tensorrt", tol=1e-2)
    assert with_copies.info.transfers_included and m.median_ms > 0


def test_onnx_runtime_writes_nothing_in_the_home_folder(tmp_path):
    """Importing onnxruntime wrote ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ (a device
    id, a telemetry database): latbench imports it with ORT_DISABLE_TELEMETRY."""
    import os
    import subprocess
    import sys

    pytest.importorskip("onnxruntime")
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    code = "from latbench.deploy.runners import import_onnxruntime; import_onnxruntime()"
    home = tmp_path / "home"
    home.mkdir()
    subprocess.run([sys.executable, "-c", code], env={**env, "HOME": str(home)}, check=True)
    assert [p for p in home.rglob("*") if p.is_file()] == []


def test_fp16_on_tensorrt_11_is_one_clear_error(tmp_path):
    """TensorRT 11 removed ``BuilderFlag.FP16`` (strongly typed networks only): fp16 is refused
    before a build, naming the version and what to do, not an AttributeError mid-validate."""
    trt = SimpleNamespace(__version__="11.1.0", BuilderFlag=SimpleNamespace(TF32=1))
    with pytest.raises(MeasurementError, match=r"TensorRT 11\.1\.0 has no FP16.*tensorrt<11"):
        build_engine(trt, b"", "fp16", tmp_path / "timing.cache")
