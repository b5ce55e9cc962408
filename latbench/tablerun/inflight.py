"""The in-flight marker and the per-item wall-clock limit: faults that kill the process.

Before a batch is built and timed, ``<table>.inflight.json`` names its rows; it is removed once
their rows are written. If the process dies in between (a segfault, ``os._exit`` in an op, the
watchdog below, SIGKILL), the next run that takes the table's lock finds the marker and:
- one item in flight: records it (``status=crashed``, or ``timeout`` when the watchdog fired)
  when the death is known not to be the user's: the watchdog fired, the CLI's supervisor saw
  the process die (``DEATH_ENV``), or the item already died once before (``attempt`` 2);
  otherwise (e.g. the user's SIGKILL) it measures the item again, first, as attempt 2;
- several (an interleaved group): measures them one at a time first (as attempt 2), so the
  next death names the culprit.
So re-runs go on past a poison op instead of dying at it forever. A process stopped by
SIGINT/SIGTERM removes its marker on the way out.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

EXIT_TIMEOUT = 75
"""Exit status of a process the watchdog ended (EX_TEMPFAIL): re-run to go on."""

INFLIGHT_NOTE_ENV = "LATBENCH_INFLIGHT_NOTE"
"""When set, the path of a file the driver writes each table's marker path into (read by the
CLI's supervisor to know that a dead child was measuring)."""

DEATH_ENV = "LATBENCH_LAST_DEATH"
"""Set by the supervisor for a restarted child: how the previous one died (for the row)."""


def marker_path(table: Path) -> Path:
    """``name.csv`` -> ``name.inflight.json``."""
    return table.with_name(table.name.removesuffix(".csv") + ".inflight.json")


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # no fsync: a crash keeps the page cache; power loss re-measures


def read_marker(table: Path) -> dict[str, Any] | None:
    """The marker a dead run left, or None (an unreadable marker is treated as none)."""
    try:
        data = json.loads(marker_path(table).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    rows, keys = data.get("rows"), data.get("keys")
    ok = (isinstance(rows, list) and isinstance(keys, list) and len(rows) == len(keys)
          and all(isinstance(r, dict) for r in rows))
    return data if ok else None


def fault_rows(marker: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The row to record for a single-item marker (crashed or timeout); [] for a group, or for
    a first death whose cause is unknown (the item is measured again)."""
    rows = marker["rows"]
    attempt = marker.get("attempt") if isinstance(marker.get("attempt"), int) else 1
    known = (marker.get("reason") == "timeout" or bool(os.environ.get(DEATH_ENV))
             or attempt >= 2)
    if len(rows) != 1 or not known:
        return []
    if marker.get("reason") == "timeout":
        status = "timeout"
        error = (f"no result after {marker.get('limit_s')} s (per-item wall-clock limit); "
                 "the process was ended and the run went on")
    else:
        status = "crashed"
        how = os.environ.get(DEATH_ENV) or "segfault, abort or exit"
        error = (f"the measuring process died while this item ran ({how}); "
                 "recorded so that re-runs go on")
    return [{**rows[0], "status": status, "error": error,
             "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}]


class InFlight:
    """Marks batches in flight for ``table`` and, with ``limit_s``, ends the process when one
    runs past ``limit_s`` per item (after marking it ``timeout``)."""

    def __init__(self, table: Path, limit_s: float | None = None, note: bool = True):
        self.path, self.limit_s = marker_path(table), limit_s
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._deadline: float | None = None
        self._rows: list[dict[str, Any]] = []
        self._keys: list[str] = []
        self._attempt = 1
        note_file = os.environ.get(INFLIGHT_NOTE_ENV) if note else None
        if note_file:
            with open(note_file, "a", encoding="utf-8") as fh:
                fh.write(f"{self.path}\n")
        if limit_s is not None:
            threading.Thread(target=self._watch, daemon=True, name="latbench-watchdog").start()

    def start(self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]],
              attempt: int = 1) -> None:
        """Mark one batch as in flight: its items' keys, the rows describing them, and how
        many times it has been tried (2: it was in flight when a process died before)."""
        with self._lock:
            self._keys, self._rows, self._attempt = list(keys), [dict(r) for r in rows], attempt
            _write_json(self.path, {"pid": os.getpid(), "keys": self._keys, "rows": self._rows,
                                    "reason": "running", "started_at": time.time(),
                                    "limit_s": self.limit_s, "attempt": attempt})
            if self.limit_s is not None:
                self._deadline = time.monotonic() + self.limit_s * max(1, len(rows))
                self._changed.notify()

    def finish(self) -> None:
        """The batch's rows are written: nothing is in flight."""
        with self._lock:
            self._deadline, self._rows, self._keys = None, [], []
            self.path.unlink(missing_ok=True)

    def held(self) -> threading.Lock:
        """Hold while writing a batch's rows, so the watchdog cannot fire half-way."""
        return self._lock

    def _watch(self) -> None:
        # Sleeps until the deadline of the batch in flight (woken when a batch starts), so it
        # never wakes while an item is being timed unless that item is past its limit.
        with self._lock:
            while True:
                left = None if self._deadline is None else self._deadline - time.monotonic()
                if left is None or left > 0:
                    self._changed.wait(timeout=left)
                    continue
                _write_json(self.path, {"pid": os.getpid(), "keys": self._keys,
                                        "rows": self._rows, "reason": "timeout",
                                        "limit_s": self.limit_s, "attempt": self._attempt})
                os._exit(EXIT_TIMEOUT)
