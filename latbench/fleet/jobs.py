"""Picklable job factories (``functools.partial``s) that Ray sends to a worker, where
``make_job(device)`` builds the job for the worker's own device as a local run would."""

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
    return functools.partial(_op_job, config, threads, dict(timer_options or {}), dict(meta or {}))


def _op_job(
    config: TimingConfig,
    threads: int | None,
    timer_options: dict[str, Any],
    meta: dict[str, Any],
    device: str,
) -> Any:
    options = timer_options if device.startswith("cuda") else {}
    return OpLatencyJob.of(make_timer(device, config, threads=threads, **options), meta)


def network_job_factory(
    config: TimingConfig, threads: int | None, size: str, meta: dict[str, Any] | None = None
) -> JobFactory:
    """Whole networks timed into a ``latbench.networks`` table; items are (arch, repeat)."""
    return functools.partial(_network_job, config, threads, size, dict(meta or {}))


def _network_job(
    config: TimingConfig, threads: int | None, size: str, meta: dict[str, Any], device: str
) -> Any:
    timer = make_timer(device, config, threads=threads)
    return NetworkJob(**timer_job_fields(timer, NETWORKS), meta=meta, timer=timer, size=size)


def memory_job_factory(
    config: TrainConfig, threads: int | None, timeout_s: float | None
) -> JobFactory:
    """Training memory of architectures, each measured in a fresh process on the worker."""
    return functools.partial(_memory_job, config, threads, timeout_s)


def _memory_job(
    config: TrainConfig, threads: int | None, timeout_s: float | None, device: str
) -> Any:
    measure = functools.partial(
        measure_memory, device=device, config=config, threads=threads, timeout_s=timeout_s
    )
    return memory_job(device, config, measure, None if device.startswith("cuda") else threads)
