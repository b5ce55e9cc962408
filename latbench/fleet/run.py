"""Measure into tables on a Ray fleet: ``run_into_table`` once per device slug (one table per
GPU type, each in a driver thread), Ray tasks (``RayTasks``) as the executor. A lost task's
items are sent once more, one at a time to the next target, then recorded with the error
(``crashed``/``oom``/``error``). Ctrl-C cancels the tasks in flight; rows written stay.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latbench.errors import LatbenchError
from latbench.fleet.cluster import JobFactory, Target, probe, task_resources
from latbench.tablerun.driver import Note, OnProgress, TableRun, run_into_table, warn_note
from latbench.tablerun.job import TableJob
from latbench.tablerun.worker import Fault, OnBatchRound, Rows


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


def measure_on(make_job: JobFactory, device: str, items: Sequence[Any], slug: str) -> Rows:
    """A Ray task: rows for ``items`` measured by ``make_job(device)`` where it runs;
    ``LatbenchError`` when that device is not of ``slug`` (its rows belong elsewhere)."""
    job = make_job(device)
    here = str(job.fingerprint.get("slug"))
    if here != slug:
        raise LatbenchError(f"this task ran on {here}, not on a {slug} device")
    return list(job.measure(items))


def _failure_status(ray: Any, exc: BaseException) -> str:
    if isinstance(exc, getattr(ray.exceptions, "OutOfMemoryError", ())):
        return "oom"
    if isinstance(exc, (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError)):
        return "crashed"
    return "error"


@dataclass
class RayTasks:
    """An executor of ``run_into_table``: each batch a Ray task on one of ``targets`` (round
    robin), all in flight at once. A lost task is a ``Fault`` blaming no item (its items are
    sent again one at a time, each to the next target); a lost retry blames its item."""

    ray: Any
    make_job: JobFactory
    device: str
    slug: str
    resources: dict[str, float]
    targets: list[Target]
    retried: dict[str, int] = field(default_factory=dict)  # key -> the target that lost it
    lost: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)  # another type's run ended
    _pending: dict[Any, tuple[list[Any], int]] = field(default_factory=dict, repr=False)

    def results(
        self, job: TableJob[Any], queue: deque[list[Any]], on_round: OnBatchRound | None
    ) -> Iterator[tuple[list[Any], Rows | Fault]]:
        remote, submitted = self.ray.remote(measure_on), 0
        while queue or self._pending:
            while queue:
                batch = queue.popleft()
                again = self.retried.get(job.key(batch[0])) if len(batch) == 1 else None
                target = submitted if again is None else again + 1
                options = self.targets[target % len(self.targets)].options
                ref = remote.options(**self.resources, max_retries=0, **options).remote(
                    self.make_job, self.device, batch, self.slug
                )
                self._pending[ref] = (batch, target)
                submitted += 1
            ready: list[Any] = []
            while not ready:
                if self.stop.is_set():
                    raise KeyboardInterrupt("another device type's run stopped")
                ready, _ = self.ray.wait(list(self._pending), num_returns=1, timeout=0.5)
            (ref,) = ready
            batch, target = self._pending.pop(ref)
            try:
                rows = self.ray.get(ref)
            except self.ray.exceptions.RayError as exc:
                yield batch, self._fault(job, batch, target, exc)
                continue
            yield batch, rows

    def _fault(self, job: TableJob[Any], batch: list[Any], target: int, exc: Exception) -> Fault:
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        why = f"{type(exc).__name__}: {why}" if why else type(exc).__name__
        keys = [job.key(item) for item in batch]
        if len(batch) == 1 and keys[0] in self.retried:
            self.lost.append(keys[0])
            status = _failure_status(self.ray, exc)
            return Fault(
                0,
                status,
                f"the Ray task measuring it was lost twice ({why}); recorded so that re-runs go on",
            )
        self.retried.update(dict.fromkeys(keys, target))
        return Fault(None, "error", f"the Ray task of {len(keys)} item(s) was lost ({why})")

    def close(self) -> None:
        """Cancel the tasks in flight (force: a plain cancel can leave a half-done import)."""
        for ref in self._pending:
            try:
                self.ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - best effort: the run is being interrupted
                pass
        self._pending.clear()


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
    on_note: Note = warn_note,
    lock_timeout_s: float | None = None,
) -> FleetRun:
    """Measure every item missing from each fleet device's table (``table_for(slug)``), targets
    grouped by their probe's slug; ``make_job(device)`` must be picklable (``fleet.jobs``).
    Raises ``LatbenchError`` when ``targets`` is empty or ``device`` is ``cuda:N``, N > 0 (a
    task sees its GPU as cuda:0); ``KeyboardInterrupt`` after cancelling the tasks in flight."""
    if not targets:
        raise LatbenchError("no Ray target to measure on")
    if device.startswith("cuda:") and device != "cuda:0":
        raise LatbenchError(
            f"device {device!r}: on a Ray fleet each task is given one GPU by Ray, which it "
            "sees as cuda:0; give --device cuda"
        )
    items = list(items)
    planning = make_job("cpu")  # keys and row descriptions; protocol and fingerprint: probes'
    groups: dict[str, list[Any]] = {}
    for p in probe(ray, make_job, device, threads, targets):
        groups.setdefault(p.slug, []).append(p)
    paths = {slug: table_for(slug) for slug in groups}  # refuses --table for several types
    stop, executors = threading.Event(), {}
    resources = task_resources(device, threads)
    for slug, group in groups.items():
        where = [p.target for p in group]
        executors[slug] = RayTasks(ray, make_job, device, slug, resources, where, stop=stop)

    def fill(slug: str) -> TableRun:
        first = groups[slug][0]
        job = dataclasses.replace(
            planning, protocol=dict(first.protocol), fingerprint=dict(first.fingerprint)
        )
        return run_into_table(
            job,
            items,
            paths[slug],
            executor=executors[slug],
            on_progress=on_progress,
            on_note=on_note,
            lock_timeout_s=lock_timeout_s,
        )

    result = FleetRun()
    with ThreadPoolExecutor(len(groups), thread_name_prefix="latbench-fleet") as pool:
        futures = {slug: pool.submit(fill, slug) for slug in groups}
        try:
            wait(futures.values(), return_when=FIRST_EXCEPTION)
            result.tables = {slug: future.result() for slug, future in futures.items()}
        except BaseException as exc:  # Ctrl-C here, or one type's run failed
            stop.set()  # every type's thread cancels its tasks and ends
            if isinstance(exc, KeyboardInterrupt) and not getattr(exc, "__notes__", None):
                tables = ", ".join(str(p) for p in paths.values())
                exc.add_note(f"this run's rows are in {tables}; a re-run resumes")
            raise
    for tasks in executors.values():
        result.retried += list(tasks.retried)
        result.lost += tasks.lost
    return result
