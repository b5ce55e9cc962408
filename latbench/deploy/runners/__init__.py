"""Deployment runners behind one interface: ``make_runner(backend, ...)``.

Backends: ``torch`` (eager, ``cuda_graph`` for CUDA-graph replay), ``ort`` (ONNX Runtime with
the CPU EP on ``cpu`` and the CUDA EP with IOBinding on ``cuda``), ``ort-trt`` (ONNX Runtime's
TensorRT EP with engine and timing caches) and ``trt`` (TensorRT itself).
"""

from __future__ import annotations

from pathlib import Path

import torch

from latbench.deploy.export import ExportedModel
from latbench.deploy.runners.base import PRECISIONS, RunInfo, Runner
from latbench.deploy.runners.ort import OrtRunner
from latbench.deploy.runners.tensorrt import TensorRTRunner
from latbench.deploy.runners.torch_runner import TorchRunner
from latbench.errors import MeasurementError, UnknownNameError

BACKENDS = ("torch", "ort", "ort-trt", "trt")
"""Deployment backends of ``latbench validate``."""

DEFAULT_CACHE_DIR = Path(".latbench-cache")


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
    """The runner of ``backend`` for ``module`` (torch) or ``exported`` (the ONNX backends)."""
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

    provider = (
        "tensorrt"
        if backend == "ort-trt"
        else ("cpu" if torch.device(device).type == "cpu" else "cuda")
    )
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
