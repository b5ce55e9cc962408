"""Deployment runners behind one interface, ``make_runner(backend, ...)``: ``run()`` does one
inference, ``measure(config)`` times it with latbench's adaptive loop (the ``Measurement`` the
op timers return), and ``info`` says what the number means (backend, execution provider really
used, precision, batch, whether host<->device transfers are timed, library versions).

Backends: ``torch`` (eager, ``cuda_graph`` for CUDA-graph replay), ``ort`` (ONNX Runtime with
the CPU EP on ``cpu`` and the CUDA EP with IOBinding on ``cuda``), ``ort-trt`` (ONNX Runtime's
TensorRT EP with engine and timing caches) and ``trt`` (TensorRT itself).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from latbench.deploy.export import ExportedModel
from latbench.device import library_versions, require_cuda
from latbench.errors import (
    MeasurementError,
    MissingDependencyError,
    UnknownNameError,
    import_optional,
)
from latbench.timed import module_callable
from latbench.timing import Measurement, TimingConfig, make_timer, measure_adaptive
from latbench.timing.cpu import CpuSampler, resolve_clock
from latbench.timing.cuda import CudaEventSampler, gpu_math_state

BACKENDS = ("torch", "ort", "ort-trt", "trt")
"""Deployment backends of ``latbench validate``."""

DEFAULT_CACHE_DIR = Path(".latbench-cache")
"""Where the ONNX Runtime TensorRT provider and the TensorRT runner keep built engines."""

PRECISIONS: dict[str, torch.dtype] = {"fp32": torch.float32, "fp16": torch.float16}


@dataclass(frozen=True)
class RunInfo:
    """How a runner's numbers were taken; stored next to them in every report."""

    backend: str
    engine: str
    device: str
    precision: str
    batch: int
    transfers_included: bool
    timer: str
    versions: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


class Runner(Protocol):
    """One model, input and device; ``run`` is synchronous from the timer's point of view and
    ``outputs`` are the last run's, on the host (to compare backends)."""

    info: RunInfo

    def run(self) -> None: ...

    def measure(self, config: TimingConfig) -> Measurement: ...

    def outputs(self) -> list[np.ndarray]: ...

    def close(self) -> None: ...


def check_precision(precision: str, allowed: tuple[str, ...], backend: str) -> torch.dtype:
    """The torch dtype of ``precision``, or an error naming what ``backend`` supports."""
    if precision not in PRECISIONS or precision not in allowed:
        raise MeasurementError(
            f"backend {backend!r} does not run precision {precision!r}; valid: {', '.join(allowed)}"
        )
    return PRECISIONS[precision]


def batch_of(inputs: tuple[torch.Tensor, ...]) -> int:
    """The leading dimension of the first input (every model here is batch-first)."""
    return int(inputs[0].shape[0]) if inputs and inputs[0].dim() > 0 else 1


class TorchRunner:
    """``module(*inputs)`` under ``torch.inference_mode`` on ``device``, timed by ``make_timer``.

    Inputs live on the device before timing starts, so transfers are never included.
    ``cuda_graph`` times CUDA-graph replays (launch overhead removed), as the op timer does.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        inputs: tuple[torch.Tensor, ...],
        device: str = "cpu",
        *,
        precision: str = "fp32",
        cuda_graph: bool = False,
        threads: int | None = None,
    ):
        dev = torch.device(device)
        if dev.type == "cuda":
            dev = require_cuda(dev)
        elif cuda_graph:
            raise MeasurementError(f"cuda_graph needs a CUDA device, not {device!r}")
        cpu = dev.type == "cpu"
        allowed = ("fp32",) if cpu else ("fp32", "fp16")
        dtype = check_precision(precision, allowed, f"torch on {dev.type}")
        self.device, self.threads, self.cuda_graph = str(dev), threads, cuda_graph
        self.module = module.to(device=dev, dtype=dtype).eval()
        self.inputs = tuple(t.detach().to(device=dev, dtype=dtype) for t in inputs)
        self._forward = module_callable(self.module, self.inputs, "infer")
        self._last: object = None
        timer = make_timer(self.device, threads=threads, cuda_graph=cuda_graph)
        cuda = {} if cpu else {"cuda": str(torch.version.cuda)}
        self.info = RunInfo(
            backend="torch",
            engine="torch-cudagraph" if cuda_graph else "torch-eager",
            device=self.device,
            precision=precision,
            batch=batch_of(self.inputs),
            transfers_included=False,
            timer=str(timer.describe()["timer"]),
            versions={**library_versions(("torch",)), **cuda},
            options={"threads": threads or torch.get_num_threads()}
            if cpu
            else {"gpu_math": gpu_math_state()},
        )

    def run(self) -> None:
        self._last = self._forward()

    def measure(self, config: TimingConfig) -> Measurement:
        timer = make_timer(self.device, config, threads=self.threads, cuda_graph=self.cuda_graph)
        return timer.measure(self.run)

    def outputs(self) -> list[np.ndarray]:
        if self._last is None:
            self.run()
        outs = self._last if isinstance(self._last, (tuple, list)) else (self._last,)
        return [o.detach().float().cpu().numpy() for o in outs]

    def close(self) -> None:
        self._last = None


PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
}


def require_provider(available: Sequence[str], requested: str) -> None:
    """Error with the install hint when this onnxruntime build lacks ``requested``."""
    if requested not in available:
        raise MissingDependencyError(
            "onnxruntime-gpu",
            "gpu",
            why=f"this onnxruntime build offers {list(available)}, not {requested} "
            "(uninstall the CPU 'onnxruntime' wheel first)",
        )


def check_session_providers(used: Sequence[str], requested: str) -> None:
    """The session really uses ``requested`` first; ORT's silent CPU fallback is an error."""
    if not used or used[0] != requested:
        raise MeasurementError(
            f"ONNX Runtime did not use {requested}: the session's providers are {list(used)} "
            "(it fell back, usually because CUDA/cuDNN/TensorRT libraries did not load; run "
            "`latbench doctor` and look at onnxruntime's log)"
        )


def provider_options(
    provider: str, device_index: int, precision: str, cache_dir: Path
) -> list[tuple[str, dict[str, Any]]]:
    """The providers list for ``InferenceSession`` (CUDA EP behind TRT EP for unsupported ops)."""
    cuda = ("CUDAExecutionProvider", {"device_id": device_index})
    if provider != "tensorrt":
        return [cuda] if provider == "cuda" else [("CPUExecutionProvider", {})]
    cache = cache_dir / "ort-trt"
    cache.mkdir(parents=True, exist_ok=True)
    trt: dict[str, Any] = {"device_id": device_index, "trt_fp16_enable": precision == "fp16"}
    for kind in ("engine", "timing"):
        trt |= {f"trt_{kind}_cache_enable": True, f"trt_{kind}_cache_path": str(cache)}
    return [("TensorrtExecutionProvider", trt), cuda]


def import_onnxruntime() -> Any:
    """``onnxruntime``, imported with its telemetry off: importing it writes a device id and an
    event database under ``~/.cache/Microsoft/DeveloperTools`` (outside where the user pointed
    latbench) unless ``ORT_DISABLE_TELEMETRY`` is set; a value the user set is kept."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    return import_optional("onnxruntime", why="the ONNX Runtime backend needs it")


class OrtRunner:
    """An ``InferenceSession`` over an exported model, on ``provider`` (cpu, cuda, tensorrt).

    ORT falls back to the CPU silently when an EP cannot load, so the requested EP must come
    first in the session's providers or the runner refuses to measure. ``session.run`` returns
    after the device has finished: a host clock times it (``resolve_clock``). On a GPU
    provider, inputs and outputs are bound on the device with IOBinding unless ``transfers`` is
    set, in which case host arrays go in and come out of every timed run.
    """

    def __init__(
        self,
        exported: ExportedModel,
        inputs: tuple[torch.Tensor, ...],
        provider: str = "cpu",
        device: str = "cpu",
        precision: str = "fp32",
        threads: int | None = None,
        transfers: bool = False,
        cache_dir: str | Path = DEFAULT_CACHE_DIR,
    ):
        ort = import_onnxruntime()
        requested = PROVIDERS[provider]
        require_provider(ort.get_available_providers(), requested)
        allowed = ("fp32", "fp16") if provider == "tensorrt" else ("fp32",)
        check_precision(precision, allowed, f"ort-{provider}")
        dev = torch.device(device)
        if (provider == "cpu") != (dev.type == "cpu"):
            raise MeasurementError(f"provider {provider!r} does not run on device {device!r}")
        index = dev.index or 0
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(exported.path),
            options,
            providers=provider_options(provider, index, precision, Path(cache_dir)),
        )
        check_session_providers(self.session.get_providers(), requested)
        self.exported = exported
        self.clock = resolve_clock("auto", threads or 0) if provider == "cpu" else "wall"
        host = [t.detach().cpu().float().numpy() for t in inputs]
        self._feed = dict(zip(exported.input_names, host))
        self._host_out: list[np.ndarray] | None = None
        on_device = provider != "cpu" and not transfers
        self._binding: Any
        self._binding, self._dev_out = self._bind(dev, index, inputs) if on_device else (None, [])
        self.info = RunInfo(
            backend="ort-trt" if provider == "tensorrt" else "ort",
            engine=requested,
            device=str(dev) if dev.type == "cpu" else f"cuda:{index}",
            precision=precision,
            batch=batch_of(inputs),
            transfers_included=provider != "cpu" and transfers,
            timer=CpuSampler(self.clock).name
            + ("" if provider == "cpu" else " (session.run returns after the device finishes)"),
            versions=library_versions(("onnxruntime", "onnxruntime-gpu", "tensorrt")),
            options={
                "providers": self.session.get_providers(),
                "threads": threads or 0,
                "iobinding": on_device,
                "opset": exported.opset,
            },
        )
        if provider == "tensorrt":
            self.info.options["cache_dir"] = str(Path(cache_dir) / "ort-trt")

    def _bind(
        self, dev: torch.device, index: int, inputs: tuple[torch.Tensor, ...]
    ) -> tuple[Any, list[torch.Tensor]]:
        """Inputs and preallocated outputs as torch CUDA tensors bound to the session."""
        binding, gpu = self.session.io_binding(), f"cuda:{index}"
        keep = [t.detach().float().contiguous().to(gpu) for t in inputs]
        outs = [
            torch.empty(s, dtype=torch.float32, device=gpu) for s in self.exported.output_shapes
        ]
        for name, t in zip(self.exported.input_names, keep):
            binding.bind_input(name, "cuda", index, np.float32, tuple(t.shape), t.data_ptr())
        for name, t in zip(self.exported.output_names, outs):
            binding.bind_output(name, "cuda", index, np.float32, tuple(t.shape), t.data_ptr())
        torch.cuda.synchronize(dev if dev.index is not None else index)
        self._keep_inputs = keep  # the binding holds raw pointers: keep the tensors alive
        return binding, outs

    def run(self) -> None:
        if self._binding is not None:
            self.session.run_with_iobinding(self._binding)
        else:
            self._host_out = self.session.run(None, self._feed)

    def measure(self, config: TimingConfig) -> Measurement:
        # the thread clock needs one torch thread in CpuTimer's check; ORT's count is its own
        threads = 1 if self.clock == "thread" else None
        return make_timer("cpu", config, threads=threads, clock=self.clock).measure(self.run)

    def outputs(self) -> list[np.ndarray]:
        self.run()
        if self._binding is not None:
            return [t.cpu().numpy() for t in self._dev_out]
        return [np.asarray(o) for o in self._host_out or []]

    def close(self) -> None:
        self._binding, self._dev_out, self._host_out = None, [], None


WORKSPACE_MIB = 4096
TIMING_CACHE = "trt-timing.cache"


def _torch_dtype(trt: Any, dtype: Any) -> torch.dtype:
    for name in ("float32", "float16", "int32", "int8", "bool", "int64", "bfloat16"):
        if dtype == getattr(trt, name, None):
            return getattr(torch, name)
    raise MeasurementError(f"TensorRT tensor dtype {dtype} has no torch equivalent here")


def build_engine(
    trt: Any,
    onnx_bytes: bytes,
    precision: str,
    timing_cache: Path,
    workspace_mib: int = WORKSPACE_MIB,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
) -> bytes:
    """Parse ONNX, build a serialized engine, and save the updated timing cache. An input with
    dynamic dimensions gets an optimization profile fixed at its shape in ``input_shapes``.
    fp16 needs TensorRT < 11 (``BuilderFlag.FP16``; 11.x builds strongly typed networks only).
    Failures are ``MeasurementError``."""
    if precision == "fp16" and not hasattr(trt.BuilderFlag, "FP16"):
        raise MeasurementError(
            f"TensorRT {trt.__version__} has no FP16 builder flag (11.x builds strongly typed "
            "networks only): use --precision fp32 here, or tensorrt<11 for fp16"
        )
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    major = int(trt.__version__.split(".")[0])
    flags = 0 if major >= 10 else 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_bytes):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise MeasurementError(f"TensorRT {trt.__version__} cannot parse the ONNX model: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mib << 20)
    dynamic = [network.get_input(i) for i in range(network.num_inputs)]
    dynamic = [t for t in dynamic if any(d < 0 for d in t.shape)]
    if dynamic:
        profile = builder.create_optimization_profile()
        for tensor in dynamic:
            shape = (input_shapes or {}).get(tensor.name)
            if shape is None:
                raise MeasurementError(
                    f"ONNX input {tensor.name!r} has dynamic dimensions {tuple(tensor.shape)} "
                    "and no shape was given for it"
                )
            profile.set_shape(tensor.name, shape, shape, shape)
        config.add_optimization_profile(profile)
    cache = config.create_timing_cache(timing_cache.read_bytes() if timing_cache.exists() else b"")
    config.set_timing_cache(cache, ignore_mismatch=False)
    if precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise MeasurementError(
            f"TensorRT {trt.__version__} failed to build an engine ({precision}); see its log above"
        )
    timing_cache.write_bytes(bytes(memoryview(config.get_timing_cache().serialize())))
    return bytes(memoryview(serialized))


class TensorRTRunner:
    """A TensorRT engine for ``exported`` on a CUDA ``device``, run with ``execute_async_v3``.

    The engine is cached on disk per (ONNX bytes, TensorRT version, precision, GPU) next to a
    shared timing cache. Buffers are torch CUDA tensors (``set_tensor_address``); inference runs
    on a torch CUDA stream, timed with CUDA events on it (``CudaEventSampler``). Without
    ``transfers`` the inputs stay on the device; with it, every timed run copies the inputs from
    pinned host memory and the outputs back, on the same stream.
    """

    def __init__(
        self,
        exported: ExportedModel,
        inputs: tuple[torch.Tensor, ...],
        device: str = "cuda",
        precision: str = "fp32",
        transfers: bool = False,
        cache_dir: str | Path = DEFAULT_CACHE_DIR,
        *,
        workspace_mib: int = WORKSPACE_MIB,
    ):
        trt = import_optional("tensorrt", "gpu", why="the TensorRT backend needs it")
        check_precision(precision, ("fp32", "fp16"), "trt")
        self.device = require_cuda(device)
        cache = Path(cache_dir) / "trt"
        cache.mkdir(parents=True, exist_ok=True)
        onnx_bytes = Path(exported.path).read_bytes()
        gpu = torch.cuda.get_device_name(self.device).replace(" ", "_")
        shapes = {n: tuple(x.shape) for n, x in zip(exported.input_names, inputs)}
        # an engine is only valid for the same model, TensorRT, precision, GPU and input shapes
        built_for = f"|{trt.__version__}|{precision}|{gpu}|{sorted(shapes.items())}|{workspace_mib}"
        key = hashlib.sha256(onnx_bytes + built_for.encode())
        engine_path = cache / f"{key.hexdigest()[:20]}.engine"
        cached = engine_path.exists()
        if not cached:
            plan = build_engine(
                trt, onnx_bytes, precision, cache / TIMING_CACHE, workspace_mib, shapes
            )
            engine_path.write_bytes(plan)
        plan = engine_path.read_bytes()
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        with torch.cuda.device(self.device):
            self.engine = self._runtime.deserialize_cuda_engine(plan)
            if self.engine is None:
                raise MeasurementError(
                    f"{engine_path}: TensorRT could not load the engine; delete it to rebuild"
                )
            self.context = self.engine.create_execution_context()
            self.stream = torch.cuda.Stream(self.device)
            self._bind(trt, exported, inputs, transfers)
        self.info = RunInfo(
            backend="trt",
            engine="tensorrt",
            device=str(self.device),
            precision=precision,
            batch=batch_of(inputs),
            transfers_included=transfers,
            timer=CudaEventSampler.name,
            versions={**library_versions(("tensorrt", "torch")), "cuda": str(torch.version.cuda)},
            options={
                "engine": str(engine_path),
                "engine_from_cache": cached,
                "timing_cache": str(cache / TIMING_CACHE),
                "opset": exported.opset,
                "workspace_mib": workspace_mib,
            },
        )

    def _bind(
        self, trt: Any, exported: ExportedModel, inputs: tuple[torch.Tensor, ...], transfers: bool
    ) -> None:
        given = dict(zip(exported.input_names, inputs))
        self._inputs: list[tuple[torch.Tensor, torch.Tensor | None]] = []
        self._outputs: list[tuple[torch.Tensor, torch.Tensor | None]] = []
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        for name in names:  # dynamic inputs take their shape first; outputs follow from them
            dynamic = -1 in tuple(self.engine.get_tensor_shape(name))
            if dynamic and name in given:
                self.context.set_input_shape(name, tuple(given[name].shape))
        for name in names:
            shape = tuple(self.context.get_tensor_shape(name))
            dtype = _torch_dtype(trt, self.engine.get_tensor_dtype(name))
            buf = torch.empty(shape, dtype=dtype, device=self.device)
            host = torch.empty(shape, dtype=dtype).pin_memory() if transfers else None
            if self.engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
                if name not in given:
                    raise MeasurementError(
                        f"engine input {name!r} not among the exported inputs {list(given)}"
                    )
                for target in (buf, host) if host is not None else (buf,):
                    target.copy_(given[name].reshape(shape))
                self._inputs.append((buf, host))
            else:
                self._outputs.append((buf, host))
            self.context.set_tensor_address(name, buf.data_ptr())
        torch.cuda.synchronize(self.device)

    def run(self) -> None:
        with torch.cuda.stream(self.stream):
            for buf, host in self._inputs:
                if host is not None:
                    buf.copy_(host, non_blocking=True)
            if not self.context.execute_async_v3(self.stream.cuda_stream):
                raise MeasurementError("TensorRT execute_async_v3 returned False")
            for buf, host in self._outputs:
                if host is not None:
                    host.copy_(buf, non_blocking=True)

    def measure(self, config: TimingConfig) -> Measurement:
        with torch.cuda.device(self.device), torch.cuda.stream(self.stream):
            return measure_adaptive(self.run, CudaEventSampler(self.device), config)

    def outputs(self) -> list[np.ndarray]:
        self.run()
        self.stream.synchronize()
        return [buf.float().cpu().numpy() for buf, _ in self._outputs]

    def close(self) -> None:
        self.context = None
        self.engine = None


def make_runner(
    backend: str,
    *,
    module: torch.nn.Module | None = None,
    exported: ExportedModel | None = None,
    inputs: tuple[torch.Tensor, ...],
    device: str = "cpu",
    precision: str = "fp32",
    threads: int | None = None,
    cuda_graph: bool = False,
    transfers: bool = False,
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
) -> Runner:
    """The runner of ``backend`` for ``module`` (torch) or ``exported`` (the ONNX backends).

    Raises ``UnknownNameError`` for an unknown backend, ``MeasurementError`` for a missing
    ``module``/``exported`` or a precision the backend does not run, and
    ``MissingDependencyError`` (with the pip command) for a missing package.
    """
    if backend not in BACKENDS:
        raise UnknownNameError("backend", backend, BACKENDS)
    if backend == "torch":
        if module is None:
            raise MeasurementError("backend 'torch' needs module=")
        return TorchRunner(
            module, inputs, device, precision=precision, cuda_graph=cuda_graph, threads=threads
        )
    if exported is None:
        raise MeasurementError(f"backend {backend!r} needs exported= (see export_onnx)")
    if backend == "trt":
        return TensorRTRunner(exported, inputs, device, precision, transfers, cache_dir)
    cpu = torch.device(device).type == "cpu"
    provider = "tensorrt" if backend == "ort-trt" else ("cpu" if cpu else "cuda")
    return OrtRunner(exported, inputs, provider, device, precision, threads, transfers, cache_dir)
