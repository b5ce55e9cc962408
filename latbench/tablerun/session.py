"""(c) The driver's writer: one table, one writer at a time, every row fsync'ed.

``TableSession`` takes an exclusive lock on ``<table>.csv.lock`` (``filelock``: flock on
POSIX) for the whole run, so a second run on the same table waits (saying so in one line) and
then resumes with what the first one wrote: every key ends up exactly once. With a
``lock_timeout_s`` it gives up after that long with a one-line ``TableError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from latbench.errors import TableError
from latbench.tables import TableSchema, TableWriter, read_table

Note = Callable[[str], None]


def lock_path(table: Path) -> Path:
    """``name.csv`` -> ``name.csv.lock``."""
    return table.with_name(table.name + ".lock")


class TableSession:
    """Locked appends to one table. Use as a context manager."""

    def __init__(
        self,
        path: Path,
        schema: TableSchema,
        meta: Mapping[str, Any],
        *,
        on_note: Note,
        lock_timeout_s: float | None = None,
    ):
        self.path, self.schema, self.meta = path, schema, dict(meta)
        self.on_note, self.lock_timeout_s = on_note, lock_timeout_s

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
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def table(self) -> pd.DataFrame:
        """The table as written so far."""
        return read_table(self.path)

    def append(self, row: Mapping[str, Any]) -> None:
        """Append one row (flushed and fsync'ed before this returns)."""
        self.writer.append(row)
