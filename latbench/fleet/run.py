"""Measure into tables on a Ray fleet: workers measure batches, the driver alone writes.

The same three parts as a local run (``latbench.tablerun``): the driver plans what each
device's table lacks under the job's protocol, Ray tasks run ``tablerun.measure_batch`` where
the resources are (one whole GPU per CUDA task, ``threads`` CPUs per CPU task), and the driver
appends each batch's rows, under the table's lock and fsync'ed, as soon as it comes back.
Rows go to the table of the device whose fingerprint the worker returned, so a cluster of
several GPU types fills one table per type.

Faults: a task whose worker dies, is preempted or runs out of memory costs that task only; its
items are sent once more (one at a time, to another target of the same device where there is
one) and, if that fails too, recorded with the error (``status`` ``crashed``/``oom``/``error``)
so that a re-run goes on past them. Ctrl-C cancels the tasks in flight; every row already
appended stays.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latbench.errors import LatbenchError
from latbench.fleet.cluster import JobFactory, Probe, Target, probe, task_resources
from latbench.tablerun.driver import TableRun, batches, plan, record, resolve_table
from latbench.tablerun.job import TableJob, measure_batch
from latbench.tablerun.session import TableSession
from latbench.tables import read_table

OnProgress = Callable[[Any, "dict[str, Any] | None"], None]
Note = Callable[[str], None]


def _warn(text: str) -> None:
    warnings.warn(text, stacklevel=4)


@dataclass
class FleetRun:
    """What a fleet run did: one ``TableRun`` per device slug, and the items sent twice."""

    tables: dict[str, TableRun] = field(default_factory=dict)
    retried: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per device table, then what was retried and what was lost."""
        lines = [
            f"{slug}: measured {len(r.measured)}, already in table {len(r.skipped)}, "
            f"failed {len(r.failed)} -> {r.path}"
            for slug, r in sorted(self.tables.items())
        ]
        lines.append(
            f"retried after a lost task: {len(self.retried)}; recorded as lost after "
            f"the retry: {len(self.lost)}"
        )
        return "\n".join(lines)


@dataclass
class _Device:
    """One device slug of the fleet: its planning job, targets, table session and run."""

    job: TableJob[Any]
    targets: list[Target]
    run: TableRun
    session: TableSession | None = None


@dataclass
class _Task:
    slug: str
    items: list[Any]
    attempt: int
    target: int


def _measure_remote(make_job: JobFactory, device: str, items: Sequence[Any]) -> Any:
    return measure_batch(make_job(device), items)


def _failure_status(ray: Any, exc: BaseException) -> str:
    if isinstance(exc, getattr(ray.exceptions, "OutOfMemoryError", ())):
        return "oom"
    if isinstance(exc, (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError)):
        return "crashed"
    return "error"


class _Driver:
    """The fleet run's state machine: submit, collect, append, retry once."""

    def __init__(
        self,
        ray: Any,
        make_job: JobFactory,
        device: str,
        threads: int | None,
        on_progress: OnProgress | None,
        note: Note,
        lock_timeout_s: float | None,
    ):
        self.ray, self.make_job, self.device = ray, make_job, device
        self.resources = task_resources(device, threads)
        self.remote = ray.remote(_measure_remote)
        self.on_progress, self.note, self.lock_timeout_s = on_progress, note, lock_timeout_s
        self.devices: dict[str, _Device] = {}
        self.pending: dict[Any, _Task] = {}
        self.result = FleetRun()

    def open(self, slug: str, job: TableJob[Any], targets: list[Target], path: Path) -> _Device:
        run = TableRun(resolve_table(path, job.fingerprint, self.note, job.schema), job.protocol_id)
        dev = self.devices[slug] = _Device(job, targets, run)
        self.result.tables[slug] = run
        return dev

    def session(self, dev: _Device) -> TableSession:
        if dev.session is None:
            dev.session = TableSession(
                dev.run.path,
                dev.job.schema,
                dev.job.side_car(),
                on_note=self.note,
                lock_timeout_s=self.lock_timeout_s,
            )
            dev.session.__enter__()
        return dev.session

    def submit(self, task: _Task) -> None:
        dev = self.devices[task.slug]
        target = dev.targets[task.target % len(dev.targets)]
        ref = self.remote.options(**self.resources, max_retries=0, **target.options).remote(
            self.make_job, self.device, task.items
        )
        self.pending[ref] = task

    def collect(self) -> None:
        while self.pending:
            done, _ = self.ray.wait(list(self.pending), num_returns=1)
            task = self.pending.pop(done[0])
            try:
                batch = self.ray.get(done[0])
            except self.ray.exceptions.RayError as exc:
                self.failed(task, exc)
                continue
            self.append(task, batch.rows, batch.fingerprint)

    def failed(self, task: _Task, exc: BaseException) -> None:
        dev = self.devices[task.slug]
        keys = [dev.job.key(i) for i in task.items]
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if task.attempt == 0:
            self.result.retried.extend(keys)
            self.note(
                f"Ray task of {len(keys)} item(s) lost ({type(exc).__name__}: {why}); "
                "sending its items once more"
            )
            for n, item in enumerate(task.items):  # one at a time: find the item at fault
                self.submit(_Task(task.slug, [item], 1, task.target + 1 + n))
            return
        self.result.lost.extend(keys)
        status = _failure_status(self.ray, exc)
        rows = [
            {
                **dev.job.key_columns(i),
                "status": status,
                "error": f"the Ray task measuring it was lost twice ({type(exc).__name__}: "
                f"{why}); recorded so that re-runs go on",
            }
            for i in task.items
        ]
        self.append(task, rows, dev.job.fingerprint)

    def append(self, task: _Task, rows: list[dict[str, Any]], fingerprint: dict[str, Any]) -> None:
        slug = str(fingerprint.get("slug", task.slug))
        dev = self.devices.get(slug) or self.moved(task, slug, fingerprint)
        session, columns = self.session(dev), dev.job.schema.columns
        for item, row in zip(task.items, rows):
            row = {k: v for k, v in row.items() if k in columns}
            record(dev.job, item, row, session, dev.run, self.on_progress)

    def moved(self, task: _Task, slug: str, fingerprint: dict[str, Any]) -> _Device:
        """A batch came back from a device not probed under that slug: its own table."""
        origin = self.devices[task.slug]
        job = dataclasses.replace(origin.job, fingerprint=dict(fingerprint))
        path = origin.run.path.parent.parent / slug / origin.run.path.name
        self.note(f"a batch for {task.slug} was measured on {slug}; its rows go to {path}")
        return self.open(slug, job, origin.targets, path)

    def close(self, cancel: bool) -> None:
        if cancel:
            for ref in self.pending:
                try:
                    # queued tasks go; a running one's worker exits: a plain cancel raises
                    # KeyboardInterrupt in it, which can leave a half-done import behind
                    # (torch then fails in that worker's next task)
                    self.ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - best effort: the run is being interrupted
                    pass
        for dev in self.devices.values():
            if dev.session is not None:
                dev.session.__exit__(None, None, None)


def group_probes(probes: Iterable[Probe]) -> dict[str, list[Probe]]:
    """Probes by device slug (targets of the same device type share one table)."""
    out: dict[str, list[Probe]] = {}
    for p in probes:
        out.setdefault(p.slug, []).append(p)
    return out


def run_on_fleet(
    make_job: JobFactory,
    items: Iterable[Any],
    device: str,
    table_for: Callable[[str], Path],
    *,
    ray: Any,
    targets: list[Target],
    threads: int | None = None,
    on_progress: OnProgress | None = None,
    on_note: Note = _warn,
    lock_timeout_s: float | None = None,
) -> FleetRun:
    """Measure every item missing from each fleet device's table (``table_for(slug)``).

    ``make_job(device)`` builds the table job where it is called (a worker: its own timer and
    fingerprint); it must be picklable (a module-level function or ``functools.partial``).
    Raises ``LatbenchError`` when ``targets`` is empty; ``KeyboardInterrupt`` after cancelling
    the tasks in flight (rows already appended are kept).
    """
    if not targets:
        raise LatbenchError("no Ray target to measure on")
    items = list(items)
    driver = _Driver(ray, make_job, device, threads, on_progress, on_note, lock_timeout_s)
    planning = make_job("cpu")  # keys and row descriptions only: protocol and fingerprint
    # are each device's own, from its probe
    cancel = True
    try:
        for slug, group in group_probes(probe(ray, make_job, device, threads, targets)).items():
            job = dataclasses.replace(
                planning, protocol=dict(group[0].protocol), fingerprint=dict(group[0].fingerprint)
            )
            dev = driver.open(slug, job, [p.target for p in group], table_for(slug))
            _plan_device(driver, slug, dev, items)
        driver.collect()
        cancel = False
    finally:
        driver.close(cancel)
    return driver.result


def _plan_device(driver: _Driver, slug: str, dev: _Device, items: list[Any]) -> None:
    path = dev.run.path
    done = dev.job.done_keys(read_table(path)) if path.is_file() and path.stat().st_size else set()
    pending, skipped = plan(dev.job, items, done)
    if pending:  # lock, and plan again under the lock
        session = driver.session(dev)
        pending, skipped = plan(dev.job, items, dev.job.done_keys(session.table()))
    for item in skipped:
        dev.run.skipped.append(dev.job.key(item))
        if driver.on_progress:
            driver.on_progress(item, None)
    counter = itertools.count()
    for batch in batches(dev.job, pending):
        driver.submit(_Task(slug, batch, 0, next(counter)))
