"""``run_into_table``, the one measure-into-table loop (ops, networks, memory, Ray fleets): plan
what a table lacks, have it measured, append it. The driver alone writes, holding
``<table>.csv.lock`` for the whole run (a second run waits, then resumes)."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout

from latbench.errors import TableError
from latbench.tablerun.compat import mismatches, sibling_path
from latbench.tablerun.job import TableJob
from latbench.tablerun.rows import utc_now
from latbench.tablerun.worker import Executor, Fault, InProcess, OnBatchRound
from latbench.tables import TableSchema, TableWriter, check_schema, read_meta, read_table

Item = TypeVar("Item")
Note = Callable[[str], None]
OnProgress = Callable[[Any, "dict[str, Any] | None"], None]
"""``on_progress(item, row)``: a row was written (``row``) or found already done (None)."""


@dataclass
class TableRun:
    """What a run did: the table it used, and keys measured, skipped and failed."""

    path: Path
    protocol_id: str
    measured: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def warn_note(text: str) -> None:
    warnings.warn(text, stacklevel=4)


def resolve_table(
    path: str | os.PathLike[str],
    fingerprint: dict[str, Any],
    on_note: Note = warn_note,
    schema: TableSchema | None = None,
) -> Path:
    """``path``, or (saying why) its sibling ``name.<identity>.csv`` when the table at ``path``
    was measured on another machine or software (``compat.mismatches``). A directory, or a
    table of another ``schema``, is a ``TableError``."""
    p = Path(path)
    if p.is_dir():
        read_table(p)  # raises "is a directory"
    if not p.is_file() or p.stat().st_size == 0:
        return p
    meta = read_meta(p)
    check_schema(p, meta, schema)
    diff = mismatches(meta.get("fingerprint"), fingerprint)
    if not diff:
        return p
    own = sibling_path(p, fingerprint)
    on_note(
        f"{p} was measured elsewhere ({'; '.join(diff[:3])}"
        f"{'; ...' if len(diff) > 3 else ''}); writing this machine's table {own.name}"
    )
    return own


def plan(
    job: TableJob[Item], items: Iterable[Item], done: set[str]
) -> tuple[list[Item], list[Item]]:
    """(pending, skipped): items whose key is not yet done, first occurrence only."""
    pending: list[Item] = []
    skipped: list[Item] = []
    seen = set(done)
    for item in items:
        key = job.key(item)
        (skipped if key in seen else pending).append(item)
        seen.add(key)
    return pending, skipped


def planned(
    job: TableJob[Item], items: Iterable[Item], path: Path
) -> tuple[list[Item], list[Item]]:
    """``plan`` against the table at ``path`` as it is now (no table yet: every item pending)."""
    done = path.is_file() and path.stat().st_size > 0
    return plan(job, items, job.done_keys(read_table(path)) if done else set())


def batches(job: TableJob[Item], items: Sequence[Item]) -> list[list[Item]]:
    """Groups of at most ``job.group_size`` items and ``job.group_bytes`` (a lone item may
    exceed it) that do not span phases."""
    out: list[list[Item]] = []
    held = 0.0
    for item in items:
        size = job.item_bytes(item)
        if (
            out
            and len(out[-1]) < job.group_size
            and held + size <= job.group_bytes
            and job.phase(out[-1][-1]) == job.phase(item)
        ):
            out[-1].append(item)
            held += size
        else:
            out.append([item])
            held = size
    return out


def lock_path(table: Path) -> Path:
    return table.with_name(table.name + ".lock")


@contextlib.contextmanager
def locked(path: Path, on_note: Note, timeout_s: float | None) -> Iterator[None]:
    """Hold table ``path``'s lock, waiting for another run at most ``timeout_s`` (None: no
    limit), then a ``TableError``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(path)))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        wait = "" if timeout_s is None else f" (at most {timeout_s:g} s)"
        on_note(f"{path}: another run is writing this table; waiting for it{wait}")
        try:
            lock.acquire(timeout=-1 if timeout_s is None else timeout_s)
        except Timeout:
            raise TableError(
                f"{path}: still locked by another run after {timeout_s:g} s "
                f"({lock_path(path)}); wait for it or write another --table"
            ) from None
    try:
        yield
    finally:
        lock.release()


def run_into_table(
    job: TableJob[Item],
    items: Iterable[Item],
    path: str | os.PathLike[str],
    *,
    on_progress: OnProgress | None = None,
    on_round: OnBatchRound | None = None,
    on_note: Note = warn_note,
    lock_timeout_s: float | None = None,
    executor: Executor | None = None,
) -> TableRun:
    """Measure every item of ``items`` not yet in the table under ``job``'s protocol.

    ``executor`` (``worker.InProcess`` by default, ``worker.Worker``, ``fleet.run.RayTasks``)
    measures the batches; rows are written as they come back. A fault costs the item at fault
    (recorded with its status); the rest of its batch is measured again (one at a time when
    none was at fault). A complete table is only read. On ``KeyboardInterrupt`` the executor is
    stopped and every row written stays: a re-run resumes.
    """
    items = list(items)
    run = TableRun(resolve_table(path, job.fingerprint, on_note, job.schema), job.protocol_id)

    def record(item: Item, row: dict[str, Any] | None) -> None:
        if row is None:
            run.skipped.append(job.key(item))
        else:
            row.setdefault("measured_at", utc_now())
            writer.append(row)
            run.rows.append(row)
            (run.measured if row.get("status") == "ok" else run.failed).append(job.key(item))
        if on_progress:
            on_progress(item, row)

    pending, skipped = planned(job, items, run.path)
    if not pending:
        for item in skipped:
            record(item, None)
        return run
    executor = executor or InProcess()
    try:
        with locked(run.path, on_note, lock_timeout_s):
            writer = TableWriter(run.path, job.schema, job.side_car())
            table = read_table(run.path)
            pending, skipped = plan(job, items, job.done_keys(table))
            other = table[table["protocol_id"] != job.protocol_id]  # keys read as the job does:
            keys = job.done_keys(other.assign(protocol_id=job.protocol_id))
            if redone := keys & {job.key(item) for item in pending}:
                on_note(
                    f"{run.path}: {len(redone)} of these items are in the table under another "
                    f"protocol ({', '.join(sorted(set(other['protocol_id'])))}: other timer "
                    f"settings); measuring them again under {job.protocol_id}, beside those rows"
                )
            for item in skipped:
                record(item, None)
            queue = deque(batches(job, pending))
            for batch, result in executor.results(job, queue, on_round):
                if not isinstance(result, Fault):
                    for item, row in zip(batch, result):
                        record(item, row)
                    continue
                why = result.error.split(";")[0]
                if result.at is None:
                    on_note(
                        f"no item of a group of {len(batch)} could be blamed ({why}); "
                        "measuring them one at a time"
                    )
                    queue.extendleft([item] for item in reversed(batch))
                    continue
                item, rest = batch[result.at], batch[: result.at] + batch[result.at + 1 :]
                record(
                    item, {**job.key_columns(item), "status": result.status, "error": result.error}
                )
                again = f" (the other {len(rest)} items of its group are measured again)"
                on_note(
                    f"{job.key(item)}: {result.status} ({why}); recorded{again if rest else ''}"
                )
                if rest:
                    queue.appendleft(rest)
    except KeyboardInterrupt as exc:  # the CLI's one line says where the rows are
        exc.add_note(f"{len(run.rows)} row(s) of this run in {run.path}; a re-run resumes")
        raise
    finally:
        executor.close()
    return run
