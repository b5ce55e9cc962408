"""Device fingerprints: where a number came from, stored with every table.

CPU: model, cores, torch threads. GPU (by UUID, honouring CUDA_VISIBLE_DEVICES): name, SM count,
memory, compute capability, CUDA, cuDNN, and with NVML driver, clocks and throttle reasons.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

import torch

from latbench.errors import MeasurementError

LIBRARIES = tuple(
    """torch numpy onnx onnxruntime onnxruntime-gpu tensorrt nvidia-ml-py scikit-learn pandas
    latbench""".split()
)
"""The libraries whose versions a fingerprint records (they affect measurements)."""

_THROTTLE_BITS = {  # NVML throttle reasons; benign ones (0x1 idle, 0x2 app clocks) left out
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
}

_VIOLATION_POLICIES = {0: "power", 1: "thermal", 3: "board limit", 5: "reliability"}
"""NVML perf policies (``nvmlPerfPolicyType_t``) whose violation time counts as throttling."""


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    """Installed versions of ``names``; packages that are not installed are omitted."""
    out = {}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


@contextlib.contextmanager
def nvml() -> Iterator[Any | None]:
    """pynvml, initialised, or None where NVML (or the package) is missing."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no driver, no library, or no package: all mean "no NVML"
        yield None
        return
    try:
        yield pynvml
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()


def nvml_handle(pynvml: Any, device: torch.device) -> Any | None:
    """NVML handle of torch's ``device``, matched by UUID. Else by index only when NVML (PCI bus
    order, ignoring CUDA_VISIBLE_DEVICES) and CUDA (fastest first unless CUDA_DEVICE_ORDER is
    PCI_BUS_ID) number the GPUs alike, or there is one GPU; else None (not another GPU's)."""
    uuid = str(torch.cuda.get_device_properties(device).uuid)
    with contextlib.suppress(Exception):
        return pynvml.nvmlDeviceGetHandleByUUID(("GPU-" + uuid).encode())
    same_order = (
        os.environ.get("CUDA_DEVICE_ORDER") == "PCI_BUS_ID"
        and "CUDA_VISIBLE_DEVICES" not in os.environ
    )
    with contextlib.suppress(Exception):
        if same_order or pynvml.nvmlDeviceGetCount() == 1:
            index = device.index if device.index is not None else torch.cuda.current_device()
            return pynvml.nvmlDeviceGetHandleByIndex(index)
    return None


def gpu_throttle(device: torch.device) -> tuple[list[str], dict[str, int]]:
    """One NVML reading of ``device``: the non-benign clock throttle reasons active now, and the
    ns each limiter (power, thermal, board limit, reliability) has held it below its application
    clocks since the driver loaded (``nvmlDeviceGetViolationStatus``'s ``violationTime``; two
    readings' difference is the throttling between them). Empty without NVML; what the GPU does
    not report is left out."""
    with _nvml_device(device) as (nv, handle):
        if handle is None:
            return [], {}
        held: dict[str, int] = {}
        for policy, name in _VIOLATION_POLICIES.items():
            with contextlib.suppress(Exception):
                held[name] = int(nv.nvmlDeviceGetViolationStatus(handle, policy).violationTime)
        return _throttle_reasons(nv, handle), held


@contextlib.contextmanager
def _nvml_device(device: torch.device) -> Iterator[tuple[Any, Any | None]]:
    """(pynvml, handle of ``device``); the handle is None without NVML or a match."""
    with nvml() as nv:
        yield nv, nvml_handle(nv, device) if nv is not None else None


def _throttle_reasons(nv: Any, handle: Any) -> list[str]:
    # "ClocksEventReasons" since NVML 12.2; "ThrottleReasons" before (deprecated)
    get = getattr(nv, "nvmlDeviceGetCurrentClocksEventReasons", None)
    try:
        mask = (get or nv.nvmlDeviceGetCurrentClocksThrottleReasons)(handle)
    except Exception:  # noqa: BLE001 - NVML not supported on this GPU
        return []
    return [name for bit, name in _THROTTLE_BITS.items() if mask & bit]


def throttled_between(before: dict[str, int], after: dict[str, int]) -> str:
    """'power 12.3 ms, thermal 0.4 ms' for the limiters whose violation time grew between two
    ``gpu_throttle`` readings; '' when none did."""
    grew = {k: after[k] - before[k] for k in after if k in before and after[k] > before[k]}
    return ", ".join(f"{k} {ns / 1e6:.1f} ms" for k, ns in grew.items())


def _gpu_nvml_fields(device: torch.device) -> dict[str, Any]:
    with _nvml_device(device) as (nv, handle):
        if handle is None:
            return {"nvml": False}
        out: dict[str, Any] = {"nvml": True}
        getters = {
            "driver": lambda: nv.nvmlSystemGetDriverVersion(),
            "sm_clock_mhz": lambda: nv.nvmlDeviceGetClockInfo(handle, nv.NVML_CLOCK_SM),
            "mem_clock_mhz": lambda: nv.nvmlDeviceGetClockInfo(handle, nv.NVML_CLOCK_MEM),
            "max_sm_clock_mhz": lambda: nv.nvmlDeviceGetMaxClockInfo(handle, nv.NVML_CLOCK_SM),
            "power_limit_w": lambda: nv.nvmlDeviceGetEnforcedPowerLimit(handle) / 1000,
            "persistence_mode": lambda: nv.nvmlDeviceGetPersistenceMode(handle),
        }
        for key, get in getters.items():
            with contextlib.suppress(Exception):
                value = get()
                out[key] = value.decode() if isinstance(value, bytes) else value
        out["throttle_reasons"] = _throttle_reasons(nv, handle)
    return out


def require_cuda(device: str | torch.device) -> torch.device:
    """``device`` as a CUDA torch.device; ``MeasurementError`` when CUDA is absent."""
    dev = torch.device(device)
    if dev.type != "cuda":
        raise MeasurementError(f"device {str(device)!r} is not a CUDA device (cuda or cuda:N)")
    if not torch.cuda.is_available():
        raise MeasurementError(
            f"device {str(device)!r} asked for, but torch.cuda.is_available() "
            "is False (CPU build of PyTorch, or no visible GPU)"
        )
    index = dev.index if dev.index is not None else torch.cuda.current_device()
    if index >= torch.cuda.device_count():
        raise MeasurementError(
            f"device {str(device)!r}: only {torch.cuda.device_count()} CUDA device(s) visible"
        )
    return torch.device("cuda", index)


def gpu_fingerprint(device: str | torch.device) -> dict[str, Any]:
    dev = require_cuda(device)
    props = torch.cuda.get_device_properties(dev)
    return {
        "kind": "cuda",
        "name": props.name,
        "uuid": "GPU-" + str(props.uuid),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "index": dev.index,
        "compute_capability": f"{props.major}.{props.minor}",
        "sm_count": props.multi_processor_count,
        "memory_mib": props.total_memory // 2**20,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        **_gpu_nvml_fields(dev),
    }


def cpu_fingerprint(threads: int | None = None) -> dict[str, Any]:
    return {
        "kind": "cpu",
        "name": _cpu_model(),
        "machine": platform.machine(),
        "logical_cpus": os.cpu_count(),
        "torch_threads": threads or torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
    }


def fingerprint(device: str = "cpu", *, threads: int | None = None) -> dict[str, Any]:
    """Where a measurement on ``device`` comes from: hardware, software and when."""
    hw = cpu_fingerprint(threads) if torch.device(device).type == "cpu" else gpu_fingerprint(device)
    return {
        **hw,
        "slug": device_slug(hw),
        "host": platform.node(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "libraries": library_versions(),
        "taken_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def device_slug(hw: dict[str, Any]) -> str:
    """Folder name under device_profiles/: e.g. ``nvidia-h200`` or ``cpu-amd-epyc-7b13-2t``."""
    name = str(hw.get("name", "unknown")).lower()
    name = re.sub(r"\((r|tm)\)|cpu @.*|processor|\d+-core", " ", name)
    slug = re.sub(r"[^a-z0-9]+", "-", name).strip("-")
    if hw.get("kind") == "cpu":
        return f"cpu-{slug}-{hw.get('torch_threads')}t"
    return slug if slug.startswith("nvidia") else f"nvidia-{slug}"
