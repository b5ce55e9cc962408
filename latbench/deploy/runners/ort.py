"""ONNX Runtime runner: CPU EP, CUDA EP with IOBinding, TensorRT EP with engine/timing caches.

ORT falls back to the CPU silently when an EP cannot load, so the requested EP must come first
in the session's providers or the runner refuses to measure. ``session.run`` returns after the
device has finished: a host clock times it (``latbench.timing.cpu.resolve_clock``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latbench.deploy.export import ExportedModel
from latbench.deploy.runners.base import DEFAULT_CACHE_DIR, RunInfo, batch_of, check_precision
from latbench.device import library_versions
from latbench.errors import (
    MeasurementError,
    MissingDependencyError,
    UnknownNameError,
    import_optional,
)
from latbench.timing import Measurement, TimingConfig, make_timer
from latbench.timing.cpu import CpuSampler, resolve_clock

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

    On a GPU provider, inputs and outputs are bound on the device with IOBinding unless
    ``transfers`` is set, in which case host arrays go in and come out of every timed run.
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
        if provider not in PROVIDERS:
            raise UnknownNameError("ONNX Runtime provider", provider, PROVIDERS)
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
        self.exported, self.threads = exported, threads
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
