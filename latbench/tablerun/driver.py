"""(a) + (c): plan what is missing from a table under this protocol, measure it, append it.

``run_into_table`` is the one measure-into-table loop behind op tables (``latbench.profile``),
network tables (``latbench.netprofile``) and memory tables (``latbench.memory.table``):
resume by protocol id, a fingerprint check before resuming, the lock, interleaved groups
measured by an executor (``latbench.tablerun.worker``), faults recorded, progress per item and
per round. The driver alone writes.
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from latbench.tablerun.compat import mismatches, sibling_path
from latbench.tablerun.job import OnRound, TableJob
from latbench.tablerun.rows import utc_now
from latbench.tablerun.session import Note, TableSession
from latbench.tablerun.worker import Executor, Fault, InProcess
from latbench.tables import TableSchema, check_schema, read_meta, read_table

Item = TypeVar("Item")
OnProgress = Callable[[Any, "dict[str, Any] | None"], None]
"""``on_progress(item, row)``: a row was written (``row``) or found already done (None)."""
OnBatchRound = Callable[[int, int, int], None]
"""``on_round(done, rounds, n_items)``: the batch of ``n_items`` in flight finished a round."""


@dataclass
class TableRun:
    """What a run did: the table it used, and keys measured, skipped and failed."""

    path: Path
    protocol_id: str
    measured: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _warn(text: str) -> None:
    warnings.warn(text, stacklevel=4)


def resolve_table(
    path: str | os.PathLike[str],
    fingerprint: dict[str, Any],
    on_note: Note = _warn,
    schema: TableSchema | None = None,
) -> Path:
    """``path``, or its sibling ``name.<identity>.csv`` when the table at ``path`` was measured
    on another machine or software (``compat.mismatches``): a run never resumes another's
    table. Says why in one line. A directory, or a table of another ``schema``, is a
    ``TableError`` (``latbench.tables.check_schema``)."""
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
    """(a) (pending, skipped): items whose key is not yet done, first occurrence only."""
    pending: list[Item] = []
    skipped: list[Item] = []
    seen = set(done)
    for item in items:
        key = job.key(item)
        (skipped if key in seen else pending).append(item)
        seen.add(key)
    return pending, skipped


def batches(job: TableJob[Item], items: Sequence[Item]) -> list[list[Item]]:
    """Groups of at most ``job.group_size`` items and ``job.group_bytes`` of their
    ``item_bytes`` (a lone item may exceed it) that do not span phases."""
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


def _done(job: TableJob[Any], path: Path) -> set[str]:
    if path.is_dir() or (path.is_file() and path.stat().st_size):
        return job.done_keys(read_table(path, job.schema))  # "is a directory", wrong schema
    return set()


def _collect(run: TableRun, on_note: Note) -> Note:
    def note(text: str) -> None:
        run.notes.append(text)
        on_note(text)

    return note


def _skip(
    run: TableRun, job: TableJob[Any], skipped: list[Any], on_progress: OnProgress | None
) -> None:
    for item in skipped:
        run.skipped.append(job.key(item))
        if on_progress:
            on_progress(item, None)


def run_into_table(
    job: TableJob[Item],
    items: Iterable[Item],
    path: str | os.PathLike[str],
    *,
    on_progress: OnProgress | None = None,
    on_round: OnBatchRound | None = None,
    on_note: Note = _warn,
    lock_timeout_s: float | None = None,
    executor: Executor | None = None,
) -> TableRun:
    """Measure every item of ``items`` not yet in the table under ``job``'s protocol.

    ``executor`` measures each batch (``worker.InProcess``, the default, or ``worker.Worker``:
    a separate process watched from outside); a batch's rows are written as it comes back. A
    fault the executor reports costs the item at fault, recorded with its status, and the rest
    of its batch is measured again. A complete table is only read (no lock, nothing written:
    read-only media are fine). On ``KeyboardInterrupt`` the executor is stopped and every row
    written so far stays: a re-run resumes.
    """
    items = list(items)
    run = TableRun(resolve_table(path, job.fingerprint, on_note, job.schema), job.protocol_id)
    note = _collect(run, on_note)
    pending, skipped = plan(job, items, _done(job, run.path))
    if not pending:
        _skip(run, job, skipped, on_progress)
        return run
    executor = executor or InProcess()
    try:
        with TableSession(
            run.path, job.schema, job.side_car(), on_note=note, lock_timeout_s=lock_timeout_s
        ) as session:
            pending, skipped = plan(job, items, job.done_keys(session.table()))
            _skip(run, job, skipped, on_progress)
            queue = deque(batches(job, pending))
            while queue:
                batch = queue.popleft()
                rounds: OnRound | None = None
                if on_round is not None:

                    def rounds(done: int, total: int, n: int = len(batch)) -> None:
                        on_round(done, total, n)

                result = executor.measure(job, batch, rounds)
                if isinstance(result, Fault):
                    again = _fault(job, batch, result, session, run, note, on_progress)
                    queue.extendleft(reversed(again))
                    continue
                for item, row in zip(batch, result):
                    record(job, item, row, session, run, on_progress)
    finally:
        executor.close()
    return run


def record(
    job: TableJob[Item],
    item: Item,
    row: dict[str, Any],
    session: TableSession,
    run: TableRun,
    on_progress: OnProgress | None,
) -> None:
    """(c) Append ``item``'s ``row`` (stamped ``measured_at`` unless it is), note it in ``run``
    as measured or failed, report it to ``on_progress``."""
    row.setdefault("measured_at", utc_now())
    session.append(row)
    run.rows.append(row)
    (run.measured if row.get("status") == "ok" else run.failed).append(job.key(item))
    if on_progress:
        on_progress(item, row)


def _fault(
    job: TableJob[Item],
    batch: list[Item],
    fault: Fault,
    session: TableSession,
    run: TableRun,
    note: Note,
    on_progress: OnProgress | None,
) -> list[list[Item]]:
    """Record the item at fault; the batches to measure again (the rest of the group, or the
    whole group one item at a time when no item was at fault)."""
    if fault.at is None:
        note(
            f"the measuring process stopped before any item of a group of {len(batch)} ran "
            f"({fault.error.split(';')[0]}); measuring them one at a time"
        )
        return [[item] for item in batch]
    item, rest = batch[fault.at], batch[: fault.at] + batch[fault.at + 1 :]
    row = {**job.key_columns(item), "status": fault.status, "error": fault.error}
    record(job, item, row, session, run, on_progress)
    others = f" (the other {len(rest)} items of its group are measured again)" if rest else ""
    note(f"{job.key(item)}: {fault.status} ({fault.error.split(';')[0]}); recorded{others}")
    return [rest] if rest else []
