"""TensorRT runner: an engine built from the ONNX file, run with ``execute_async_v3``.

The engine is cached on disk per (ONNX bytes, TensorRT version, precision, GPU) next to a shared
timing cache. Buffers are torch CUDA tensors (``set_tensor_address``); inference runs on a torch
CUDA stream, timed with CUDA events on it (``CudaEventSampler``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latbench.deploy.export import ExportedModel
from latbench.deploy.runners.base import DEFAULT_CACHE_DIR, RunInfo, batch_of, check_precision
from latbench.device import library_versions, require_cuda
from latbench.errors import MeasurementError, import_optional
from latbench.timing import Measurement, TimingConfig, measure_adaptive
from latbench.timing.cuda import CudaEventSampler

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
    """A TensorRT engine for ``exported`` on a CUDA ``device``.

    Without ``transfers`` the inputs stay on the device; with it, every timed run copies the
    inputs from pinned host memory and the outputs back, on the same stream.
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
        self.transfers = transfers
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
