"""Picklable job factories: what a Ray worker calls to build a table job on its own device.

Each factory is a ``functools.partial`` of a module-level function, so Ray can send it to a
worker; there ``make_job(device)`` builds the timer (or memory measurer) and the fingerprint
of the worker's device, exactly as a local run builds them.
"""

from __future__ import annotations

import functools
from typing import Any

from latbench.fleet.cluster import JobFactory
from latbench.memory.steps import TrainConfig
from latbench.memory.table import measure_memory, memory_job
from latbench.netprofile import NetworkJob
from latbench.profile import OpLatencyJob, timer_job_fields
from latbench.tables.schema import NETWORKS
from latbench.timing import TimingConfig, make_timer


def op_job_factory(
    config: TimingConfig,
    threads: int | None,
    timer_options: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> JobFactory:
    """Ops timed into a ``latbench.latency`` table (``latbench.profile.OpLatencyJob``)."""
    return functools.partial(
        _op_job,
        config=config,
        threads=threads,
        timer_options=dict(timer_options or {}),
        meta=dict(meta or {}),
    )


def _op_job(
    device: str,
    *,
    config: TimingConfig,
    threads: int | None,
    timer_options: dict[str, Any],
    meta: dict[str, Any],
) -> Any:

    options = timer_options if device.startswith("cuda") else {}
    return OpLatencyJob.of(make_timer(device, config, threads=threads, **options), meta)


def network_job_factory(
    config: TimingConfig, threads: int | None, size: str, meta: dict[str, Any] | None = None
) -> JobFactory:
    """Whole networks timed into a ``latbench.networks`` table; items are (arch, repeat)."""
    return functools.partial(
        _network_job, config=config, threads=threads, size=size, meta=dict(meta or {})
    )


def _network_job(
    device: str, *, config: TimingConfig, threads: int | None, size: str, meta: dict[str, Any]
) -> Any:

    timer = make_timer(device, config, threads=threads)
    return NetworkJob(**timer_job_fields(timer, NETWORKS), meta=meta, timer=timer, size=size)


def memory_job_factory(
    config: TrainConfig, threads: int | None, timeout_s: float | None
) -> JobFactory:
    """Training memory of architectures, each measured in a fresh process on the worker."""
    return functools.partial(_memory_job, config=config, threads=threads, timeout_s=timeout_s)


def _memory_job(
    device: str, *, config: TrainConfig, threads: int | None, timeout_s: float | None
) -> Any:
    cpu = not device.startswith("cuda")
    measure = functools.partial(
        measure_memory, device=device, config=config, threads=threads, timeout_s=timeout_s
    )
    return memory_job(device, config, measure, threads if cpu else None)
