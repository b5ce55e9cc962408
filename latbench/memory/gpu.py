"""GPU training memory as HyperSegNAS measured it, in a fresh ``python -m latbench.memory.child``:

1. CUDA is initialised and NVML read: the CUDA-context baseline;
2. the network is built on the GPU; a forward pass without autograd gives the inference-only
   allocator peaks; the cache is emptied and the peaks reset;
3. ``config.steps`` training steps run, NVML's usage of this process (what nvidia-smi shows) and
   of the device sampled after each;
4. ``torch.cuda.max_memory_allocated`` / ``max_memory_reserved`` give the allocator peaks.
An OOM comes back as ``status="oom"``. In a container NVML lists host pids, so the process
column is empty and ``nvml_device_delta_mib`` (device peak minus usage before CUDA init) stands in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch

from latbench.device import nvml, nvml_handle
from latbench.errors import LatbenchError, MeasurementError
from latbench.memory.steps import (
    Subject,
    TrainConfig,
    as_training_architecture,
    run_training,
    training_inputs,
)
from latbench.papers import MIB

ALLOC_CONF_VARS = ("PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_ALLOC_CONF")
MODELLED_ALLOC_SETTINGS = {"max_split_size_mb"}
"""Allocator settings the allocator model reproduces (``replay_allocator(max_split_bytes=)``);
``expandable_segments:False`` and ``backend:native`` are the defaults and also accepted."""
_DEFAULT_SETTINGS = {("expandable_segments", "false"), ("backend", "native")}


def alloc_conf(environ: Any = None) -> str:
    """The caching allocator's settings of this environment ('' when none are set)."""
    env = os.environ if environ is None else environ
    return ",".join(env[v] for v in ALLOC_CONF_VARS if env.get(v))


def check_alloc_conf(text: str, max_split_mib: float | None = None) -> float | None:
    """The ``max_split_size_mb`` the model must use for allocator settings ``text``.

    Raises ``LatbenchError`` for a setting the allocator model does not model (e.g.
    ``expandable_segments:True``, ``backend:cudaMallocAsync``, ``roundup_power2_divisions``),
    or when ``max_split_mib`` contradicts the measured ``max_split_size_mb``.
    """
    items = (t.partition(":") for t in text.split(",") if t.strip())
    conf = {name.strip(): value.strip() for name, _, value in items}
    bad = [
        f"{k}:{v}"
        for k, v in conf.items()
        if k not in MODELLED_ALLOC_SETTINGS and (k, v.lower()) not in _DEFAULT_SETTINGS
    ]
    if bad:
        raise LatbenchError(
            f"PYTORCH_CUDA_ALLOC_CONF={text!r}: the allocator model does not "
            f"model {', '.join(bad)}; measure without it (unset the variable) "
            "or use target='allocated', which does not depend on it"
        )
    if "max_split_size_mb" not in conf:
        return max_split_mib
    measured = float(conf["max_split_size_mb"])
    if max_split_mib is not None and max_split_mib != measured:
        raise LatbenchError(
            f"PYTORCH_CUDA_ALLOC_CONF sets max_split_size_mb:{measured:g} but "
            f"the predictor models max_split_mib={max_split_mib:g}"
        )
    return measured


def nvml_process_bytes(pynvml: Any, handle: Any, pid: int) -> int | None:
    """Used GPU memory of process ``pid`` on ``handle`` per NVML (None: not listed / unknown).

    A process outside this container's pid namespace, or a driver that hides per-process
    usage (``usedGpuMemory`` None or NVML_VALUE_NOT_AVAILABLE), gives None.
    """
    getters = ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses")
    total, found = 0, False
    for name in getters:
        try:
            procs = getattr(pynvml, name)(handle)
        except Exception:  # noqa: BLE001 - NVML call unsupported on this GPU/driver
            continue
        for proc in procs:
            used = getattr(proc, "usedGpuMemory", None)
            if proc.pid == pid and used is not None and used < 2**63:
                total, found = max(total, int(used)), True
    return total if found else None


@dataclass
class NvmlSampler:
    """Keeps the maxima of per-process and per-device NVML usage over ``sample()`` calls."""

    pynvml: Any | None
    handle: Any | None
    pid: int
    process_peak: int | None = None
    device_peak: int | None = None

    def read(self) -> tuple[int | None, int | None]:
        """(this process's, the device's) used bytes per NVML; None where it does not say."""
        if self.pynvml is None or self.handle is None:
            return None, None
        process = nvml_process_bytes(self.pynvml, self.handle, self.pid)
        try:
            return process, int(self.pynvml.nvmlDeviceGetMemoryInfo(self.handle).used)
        except Exception:  # noqa: BLE001
            return process, None

    def sample(self) -> None:
        proc, dev = self.read()
        if proc is not None:
            self.process_peak = max(self.process_peak or 0, proc)
        if dev is not None:
            self.device_peak = max(self.device_peak or 0, dev)


def _mib(value: int | None) -> float | None:
    return None if value is None else value / MIB


def _allocator_peaks(dev: torch.device) -> tuple[int, int]:
    return torch.cuda.max_memory_allocated(dev), torch.cuda.max_memory_reserved(dev)


def measure_gpu_here(subject: Subject, config: TrainConfig, device: str) -> dict[str, Any]:
    """Run the protocol in this (fresh) process; returns the memory columns in MiB."""
    if not torch.cuda.is_available():
        raise MeasurementError(f"device {device!r}: CUDA is not available in this process")
    dev = torch.device("cuda", torch.device(device).index or 0)  # set_device needs an index
    with nvml() as nv:
        handle = nvml_handle(nv, dev) if nv is not None else None
        sampler = NvmlSampler(nv, handle, os.getpid())
        before_init = sampler.read()[1]
        torch.cuda.set_device(dev)
        torch.cuda.init()
        torch.cuda.synchronize(dev)
        context, device_before = sampler.read()
        if context is None and before_init is not None and device_before is not None:
            context = device_before - before_init  # pid not visible (container): device delta
        arch = as_training_architecture(subject, config.batch)
        torch.manual_seed(0)
        module = arch.build(dev).train()
        inputs = training_inputs(arch, dev)
        torch.cuda.reset_peak_memory_stats(dev)
        with torch.no_grad():
            module(*inputs)  # the inference-only peak
        torch.cuda.synchronize(dev)
        infer = _allocator_peaks(dev)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(dev)

        def after_step(_step: int) -> None:
            torch.cuda.synchronize(dev)
            sampler.sample()

        run_training(module, inputs, config, after_step=after_step)
        peak_alloc, peak_res = _allocator_peaks(dev)
    peak, before = sampler.device_peak, before_init
    delta = peak - before if peak is not None and before is not None else None
    return {
        "peak_allocated_mib": peak_alloc / MIB,
        "peak_reserved_mib": peak_res / MIB,
        "nvml_process_mib": _mib(sampler.process_peak),
        "context_mib": _mib(context),
        "nvml_device_mib": _mib(sampler.device_peak),
        "nvml_device_before_mib": _mib(device_before),
        "nvml_device_delta_mib": _mib(delta),
        "alloc_conf": alloc_conf(),
        "infer_peak_allocated_mib": infer[0] / MIB,
        "infer_peak_reserved_mib": infer[1] / MIB,
    }
