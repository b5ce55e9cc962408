"""(c) The driver's writer: one table, one writer at a time, every row fsync'ed.

``TableSession`` takes an exclusive lock on ``<table>.csv.lock`` (``filelock``: flock on
POSIX) for the whole run, so a second run on the same table waits (saying so in one line) and
then resumes with what the first one wrote: every key ends up exactly once. With a
``lock_timeout_s`` it gives up after that long with a one-line ``TableError``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from latbench.errors import LatbenchError, TableError
from latbench.tablerun.inflight import InFlight, culprit, fault_rows, read_marker
from latbench.tables import TableSchema, TableWriter, read_table
from latbench.tables.checks import check_rows, parse_rows, to_numbers

Note = Callable[[str], None]


def lock_path(table: Path) -> Path:
    """``name.csv`` -> ``name.csv.lock``."""
    return table.with_name(table.name + ".lock")


class TableSession:
    """Locked appends to one table, with the in-flight marker of a dead run recovered.

    Use as a context manager; ``suspects`` holds the keys a dead run left in flight that are
    not recorded yet and may have killed it (to be measured first, one at a time, as their
    second attempt): the item whose turn it was, or the whole batch when that is unknown.
    """

    def __init__(
        self,
        path: Path,
        schema: TableSchema,
        meta: Mapping[str, Any],
        *,
        on_note: Note,
        lock_timeout_s: float | None = None,
        item_timeout_s: float | None = None,
        done_keys: Callable[[pd.DataFrame], set[str]] | None = None,
    ):
        self.path, self.schema, self.meta = path, schema, dict(meta)
        self.done_keys = done_keys
        self.on_note, self.lock_timeout_s = on_note, lock_timeout_s
        self.item_timeout_s = item_timeout_s
        self.recovered: list[dict[str, Any]] = []
        self.suspects: set[str] = set()

    def __enter__(self) -> TableSession:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(lock_path(self.path)))
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            wait = "" if self.lock_timeout_s is None else f" (at most {self.lock_timeout_s:g} s)"
            self.on_note(f"{self.path}: another run is writing this table; waiting for it{wait}")
            try:
                self._lock.acquire(
                    timeout=-1 if self.lock_timeout_s is None else self.lock_timeout_s
                )
            except Timeout:
                raise TableError(
                    f"{self.path}: still locked by another run after "
                    f"{self.lock_timeout_s:g} s ({lock_path(self.path)}); wait "
                    "for it or write another --table"
                ) from None
        try:
            self.writer = TableWriter(self.path, self.schema, self.meta)
            self._recover()
            self.inflight = InFlight(self.path, self.item_timeout_s)
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def _recover(self) -> None:
        marker = read_marker(self.path)
        if marker is None:
            return
        keys, at, rows = [str(k) for k in marker["keys"]], culprit(marker), fault_rows(marker)
        group = (
            f" (the other {len(keys) - 1} items of its group are measured as usual)"
            if len(keys) > 1
            else ""
        )
        culprit_key = keys[at] if at is not None else None
        if rows and self.done_keys is not None and culprit_key in self.done_keys(self.table()):
            rows = []  # its row was written before the death (killed while writing rows)
            self.on_note(
                f"{self.path}: an earlier run died after writing {culprit_key}'s row; going on"
            )
            culprit_key = None
        if rows and not self._row_ok(rows[0], culprit_key):
            rows = []  # a marker edited by hand: measure the item again instead
        for row in rows:
            self.writer.append({k: v for k, v in row.items() if k in self.schema.columns})
            self.on_note(
                f"{self.path}: {culprit_key} {row['status']} in an earlier run "
                f"({row['error'].split(';')[0]}); recorded, going on{group}"
            )
        if not rows and (culprit_key is not None or at is None):
            self.suspects = set(keys) if culprit_key is None else {culprit_key}
            what = f"a group of {len(keys)} items" if culprit_key is None else culprit_key + group
            self.on_note(
                f"{self.path}: an earlier run stopped while measuring {what}; "
                "measuring it again first, alone (a second death records it crashed)"
            )
        self.recovered = rows
        InFlight(self.path, note=False).finish()

    def _row_ok(self, row: Mapping[str, Any], key: str | None) -> bool:
        """The marker's row passes the table's checks and is ``key``'s row under this
        protocol (so a damaged marker cannot write a row that breaks the table)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerows(
            [
                self.schema.names,
                ["" if row.get(c) is None else row.get(c) for c in self.schema.names],
            ]
        )
        try:
            df = parse_rows(self.path, buf.getvalue(), self.schema)
            to_numbers(self.path, df, self.schema)
            check_rows(self.path, df, self.schema)
        except LatbenchError:
            return False
        return self.done_keys is None or self.done_keys(df) == {key}

    def table(self) -> pd.DataFrame:
        """The table as written so far."""
        return read_table(self.path)

    def append(self, row: Mapping[str, Any]) -> None:
        """Append one row (flushed and fsync'ed before this returns)."""
        self.writer.append(row)
