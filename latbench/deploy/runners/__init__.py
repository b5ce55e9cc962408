"""Deployment runners behind one interface: ``make_runner(backend, ...)``.

Backends: ``torch`` (eager, ``cuda_graph`` for CUDA-graph replay), ``ort`` (ONNX Runtime with
the CPU EP on ``cpu`` and the CUDA EP with IOBinding on ``cuda``), ``ort-trt`` (ONNX Runtime's
TensorRT EP with engine and timing caches) and ``trt`` (TensorRT itself).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from latbench.deploy.export import ExportedModel
from latbench.deploy.runners.base import (
    DEFAULT_CACHE_DIR,
    PRECISIONS,
    RunInfo,
    Runner,
    batch_of,
    check_precision,
)
from latbench.deploy.runners.ort import OrtRunner
from latbench.deploy.runners.tensorrt import TensorRTRunner
from latbench.device import library_versions, require_cuda
from latbench.errors import MeasurementError, UnknownNameError
from latbench.timed import module_callable
from latbench.timing import Measurement, TimingConfig, make_timer
from latbench.timing.cuda import gpu_math_state

BACKENDS = ("torch", "ort", "ort-trt", "trt")
"""Deployment backends of ``latbench validate``."""


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
        return TensorRTRunner(
            exported,
            inputs,
            device=device,
            precision=precision,
            transfers=transfers,
            cache_dir=cache_dir,
        )
    cpu = torch.device(device).type == "cpu"
    provider = "tensorrt" if backend == "ort-trt" else ("cpu" if cpu else "cuda")
    return OrtRunner(
        exported,
        inputs,
        provider=provider,
        device=device,
        precision=precision,
        threads=threads,
        transfers=transfers,
        cache_dir=cache_dir,
    )


__all__ = ["BACKENDS", "PRECISIONS", "RunInfo", "Runner", "make_runner"]
