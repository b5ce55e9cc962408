"""(a) + (c): plan what is missing from a table under this protocol, measure it, append it.

``run_into_table`` is the one measure-into-table loop behind op tables (``latbench.profile``),
network tables (``latbench.netprofile``) and memory tables (``latbench.memory.table``):
resume by protocol id, a fingerprint check before resuming, the lock, the in-flight marker,
interleaved groups, progress per item and per round.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from latbench.tablerun.compat import mismatches, sibling_path
from latbench.tablerun.inflight import read_marker
from latbench.tablerun.job import OnRound, TableJob
from latbench.tablerun.session import Note, TableSession
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


def batches(job: TableJob[Item], items: Sequence[Item], suspects: set[str]) -> list[list[Item]]:
    """Groups of ``job.group_size`` that do not span phases; ``suspects`` alone, first."""
    first = [[i] for i in items if job.key(i) in suspects]
    out: list[list[Item]] = []
    for item in (i for i in items if job.key(i) not in suspects):
        if out and len(out[-1]) < job.group_size and job.phase(out[-1][-1]) == job.phase(item):
            out[-1].append(item)
        else:
            out.append([item])
    return first + out


def _done(job: TableJob[Any], path: Path) -> set[str]:
    if path.is_dir() or (path.is_file() and path.stat().st_size):
        return job.done_keys(read_table(path, job.schema))  # "is a directory", wrong schema
    return set()


def run_into_table(
    job: TableJob[Item],
    items: Iterable[Item],
    path: str | os.PathLike[str],
    *,
    on_progress: OnProgress | None = None,
    on_round: OnBatchRound | None = None,
    on_note: Note = _warn,
    lock_timeout_s: float | None = None,
    item_timeout_s: float | None = None,
) -> TableRun:
    """Measure every item of ``items`` not yet in the table under ``job``'s protocol.

    A complete table is only read (no lock, nothing written: read-only media are fine).
    ``item_timeout_s`` arms the watchdog: an item making no progress for longer (one of its
    turns: build, describe, warm-up, a round's slice) ends the process with
    ``inflight.EXIT_TIMEOUT`` after marking it, and the next run records it as ``timeout``.
    """
    items = list(items)
    run = TableRun(resolve_table(path, job.fingerprint, on_note, job.schema), job.protocol_id)
    note = _collect(run, on_note)
    pending, skipped = plan(job, items, _done(job, run.path))
    if not pending and read_marker(run.path) is None:
        _skip(run, job, skipped, on_progress)
        return run
    with TableSession(
        run.path,
        job.schema,
        job.side_car(),
        on_note=note,
        lock_timeout_s=lock_timeout_s,
        item_timeout_s=item_timeout_s,
        done_keys=job.done_keys,
    ) as session:
        pending, skipped = plan(job, items, job.done_keys(session.table()))
        _skip(run, job, skipped, on_progress)
        if pending:
            job.warm_up()
        for batch in batches(job, pending, session.suspects):
            attempt = 2 if job.key(batch[0]) in session.suspects else 1
            _run_batch(job, batch, session, run, on_progress, on_round, attempt)
    return run


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


def _run_batch(
    job: TableJob[Item],
    batch: list[Item],
    session: TableSession,
    run: TableRun,
    on_progress: OnProgress | None,
    on_round: OnBatchRound | None,
    attempt: int = 1,
) -> None:
    keys = [job.key(i) for i in batch]
    try:
        inflight = session.inflight
        inflight.start(keys, [job.key_columns(i) for i in batch], attempt)
        described = []
        for turn, item in enumerate(batch):  # describing may crash too (features, shapes)
            inflight.turn(turn)
            described.append(job.describe(item))
        inflight.start(keys, described, attempt)
        rounds: OnRound | None = None
        if on_round is not None:

            def rounds(done: int, total: int) -> None:
                on_round(done, total, len(batch))

        rows = job.measure(batch, rounds, inflight.turn)
        with session.inflight.held():
            for key, row in zip(keys, rows, strict=True):
                row.setdefault(
                    "measured_at", datetime.now(timezone.utc).isoformat(timespec="seconds")
                )
                session.append(row)
                run.rows.append(row)
                (run.measured if row.get("status") == "ok" else run.failed).append(key)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the items were not at fault
        session.inflight.finish()
        raise
    session.inflight.finish()
    if on_progress:
        for item, row in zip(batch, rows, strict=True):
            on_progress(item, row)
