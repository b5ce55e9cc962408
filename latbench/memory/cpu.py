"""Peak memory of real CPU training steps: peak RSS growth in a fresh process.

In a fresh ``python -m latbench.memory.child``, glibc's mmap threshold is fixed at 64 KiB and
trimming made immediate (``MALLOC_ENV``), so freed tensors' pages go back to the kernel; the
network is built and one warm-up step runs; then VmRSS is the baseline, the high-water mark is
reset (``/proc/self/clear_refs`` ``5``), the steps run, and VmHWM − baseline is the growth. The
trace predicts it as peak live bytes above the setup, counting allocations of at least
``MMAP_THRESHOLD_BYTES`` (``replay_live(..., min_bytes=...)``).
"""

from __future__ import annotations

import gc
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from latbench.errors import MeasurementError
from latbench.memory.steps import (
    Subject,
    TrainConfig,
    as_training_architecture,
    run_training,
    training_inputs,
)
from latbench.papers import MIB

MMAP_THRESHOLD_BYTES = 65536  # glibc serves blocks from this size by mmap, returned on free
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD_BYTES), "MALLOC_TRIM_THRESHOLD_": "0"}


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise MeasurementError(f"/proc/self/status has no {field}; peak RSS needs Linux")


def measure_cpu_here(
    subject: Subject, config: TrainConfig, threads: int | None = None
) -> dict[str, Any]:
    """Run the protocol in this process (in a fresh one: ``measure_memory``)."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    arch = as_training_architecture(subject, config.batch)
    module = arch.build("cpu").train()
    inputs = training_inputs(arch, "cpu")
    run_training(module, inputs, replace(config, steps=1))  # warm-up
    gc.collect()
    baseline = _status_bytes("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM
    except OSError as exc:
        raise MeasurementError(
            f"cannot reset the RSS high-water mark ({exc}); this protocol needs Linux >= 4.0"
        ) from None
    run_training(module, inputs, config)
    peak = _status_bytes("VmHWM")
    return {
        "rss_baseline_mib": baseline / MIB,
        "rss_peak_mib": peak / MIB,
        "rss_growth_mib": (peak - baseline) / MIB,
        "threads": torch.get_num_threads(),
    }
