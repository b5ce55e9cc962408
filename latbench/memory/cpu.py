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
import json
import os
import subprocess
import sys
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
    subject_to_json,
    training_inputs,
)
from latbench.papers import MIB
from latbench.timed import is_oom

MMAP_THRESHOLD_BYTES = 65536  # glibc serves blocks from this size by mmap, returned on free
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD_BYTES), "MALLOC_TRIM_THRESHOLD_": "0"}
CHILD_TIMEOUT_S = 900.0


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise MeasurementError(f"/proc/self/status has no {field}; peak RSS needs Linux")


def _reset_peak_rss() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError as exc:
        raise MeasurementError(
            f"cannot reset the RSS high-water mark ({exc}); this protocol needs Linux >= 4.0"
        ) from None


def measure_cpu_here(
    subject: Subject, config: TrainConfig, threads: int | None = None
) -> dict[str, Any]:
    """Run the protocol in this process (call it in a fresh one: see ``measure_cpu``)."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    arch = as_training_architecture(subject, config.batch)
    module = arch.build("cpu").train()
    inputs = training_inputs(arch, "cpu")
    run_training(module, inputs, replace(config, steps=1))  # warm-up
    gc.collect()
    baseline = _status_bytes("VmRSS")
    _reset_peak_rss()
    run_training(module, inputs, config)
    peak = _status_bytes("VmHWM")
    return {
        "rss_baseline_mib": baseline / MIB,
        "rss_peak_mib": peak / MIB,
        "rss_growth_mib": (peak - baseline) / MIB,
        "threads": torch.get_num_threads(),
    }


def run_child(
    job: dict[str, Any], env: dict[str, str] | None = None, timeout_s: float = CHILD_TIMEOUT_S
) -> dict[str, Any]:
    """Run a job in a fresh ``python -m latbench.memory.child``; its JSON result."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "latbench.memory.child"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return {
            "status": "timeout",
            "error": f"measurement child gave no result within {timeout_s:g} s; ended",
        }
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1][:500]
        oom = proc.returncode in (-9, 137) or is_oom(RuntimeError(proc.stderr[-2000:]))
        status = "oom" if oom else "crashed" if proc.returncode < 0 else "error"
        return {"status": status, "error": f"measurement child exited {proc.returncode}: {tail}"}
    return json.loads(lines[-1])


def measure_cpu(
    subject: Subject,
    config: TrainConfig = TrainConfig(),
    threads: int | None = 1,
    timeout_s: float = CHILD_TIMEOUT_S,
) -> dict[str, Any]:
    """Peak RSS growth of ``config.steps`` training steps of ``subject``, in a fresh process
    (``status=timeout`` when it gives no result within ``timeout_s``)."""
    job = {"device": "cpu", "subject": subject_to_json(subject), "config": config.to_dict()}
    return run_child({**job, "threads": threads}, env=MALLOC_ENV, timeout_s=timeout_s)
