"""Timers behind one interface: ``make_timer(device).measure(fn) -> Measurement``."""

from __future__ import annotations

from typing import TypeAlias

import torch

from latbench.errors import MeasurementError
from latbench.timing.adaptive import (
    QUICK,
    OnTurn,
    TimingConfig,
    measure_adaptive,
    measure_each,
    min_sample_ms_for,
    renumbered_turns,
)
from latbench.timing.cpu import CpuTimer, resolve_clock, torch_threads
from latbench.timing.cuda import CudaTimer
from latbench.timing.measurement import Measurement

Timer: TypeAlias = CpuTimer | CudaTimer


def make_timer(
    device: str = "cpu",
    config: TimingConfig | None = None,
    *,
    threads: int | None = None,
    l2_flush: bool = False,
    cuda_graph: bool = False,
    clock: str = "auto",
) -> Timer:
    """The timer for ``device``: ``cpu`` (``clock``: auto = per-thread CPU time with one
    thread, wall clock otherwise; see latbench.timing.cpu) or ``cuda[:N]`` (CUDA events)."""
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError):
        kind = "?"
    if kind == "cpu":
        return CpuTimer(config, threads=threads, clock=clock)
    if kind == "cuda":
        return CudaTimer(device, config, l2_flush=l2_flush, cuda_graph=cuda_graph)
    raise MeasurementError(f"no timer for device {device!r}; valid: cpu, cuda, cuda:N")


__all__ = [
    "QUICK",
    "CpuTimer",
    "resolve_clock",
    "Measurement",
    "Timer",
    "TimingConfig",
    "OnTurn",
    "make_timer",
    "measure_adaptive",
    "measure_each",
    "min_sample_ms_for",
    "renumbered_turns",
    "torch_threads",
]
