"""The in-flight marker and the per-item wall-clock limit: faults that kill the process.

Before a batch is built and timed, ``<table>.inflight.json`` names its rows; it is removed once
their rows are written. While the batch runs, the marker's ``turn`` field says which of its
items is being built, described, warmed up or timed (``TableJob.measure``'s ``on_turn``): the
field is a fixed 8-character slot of the marker file, mapped into memory (``mmap``), so that
noting a turn is one store into the page cache, no system call, and still survives the
process's death. With a limit, a watchdog thread ends the process when one item makes no
progress for ``limit_s``: each turn resets its deadline to ``now + limit_s``. It first rewrites
the marker to name that one item (``reason: timeout``).

If the process dies (a segfault, ``os._exit`` in an op, the watchdog, SIGKILL), the next run
that takes the table's lock finds the marker; the item to blame (``culprit``) is the one whose
turn it was, or the only item of a one-item batch. It records that item (``status=crashed``,
or ``timeout`` when the watchdog fired) when the death is known not to be the user's: the
watchdog fired, the CLI's supervisor saw the process die (``DEATH_ENV``), or the item already
died once before (``attempt`` 2); otherwise (e.g. the user's SIGKILL) it measures the item
again, first and alone, as attempt 2. The rest of a group is measured again as usual. A group
whose marker names no turn (a death before the first, or in the timer's drift reference, or a
marker written before turns existed) is measured one item at a time first (as attempt 2), so
that a second death names the culprit. So re-runs go on past a poison op instead of dying at it
forever, at the cost of one restart per fault. A process stopped by SIGINT/SIGTERM removes its
marker on the way out.

Marker (JSON object): ``pid``, ``keys`` (the batch's keys), ``rows`` (their rows as known
before measuring), ``reason`` (``running`` | ``timeout``), ``started_at`` (Unix s),
``limit_s`` (s or null), ``attempt`` (1, or 2 for a suspect), ``turn`` (index into ``keys``;
-1: none yet; ``len(keys)``: the timer's drift reference).
"""

from __future__ import annotations

import json
import mmap
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from latbench.atomic import write_atomically

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
    # no fsync: a crash keeps the page cache; a power loss re-measures
    write_atomically(path, json.dumps(data, default=str) + "\n")


def read_marker(table: Path) -> dict[str, Any] | None:
    """The marker a dead run left, or None (an unreadable marker is treated as none)."""
    try:
        data = json.loads(marker_path(table).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    rows, keys = data.get("rows"), data.get("keys")
    ok = (
        isinstance(rows, list)
        and isinstance(keys, list)
        and len(rows) == len(keys)
        and all(isinstance(r, dict) for r in rows)
    )
    return data if ok else None


def culprit(marker: Mapping[str, Any]) -> int | None:
    """Index (into ``keys``) of the item a dead run was on: its ``turn``, or 0 for a one-item
    batch; None when unknown (no turn yet, the drift reference, an older marker)."""
    n, turn = len(marker["keys"]), marker.get("turn")
    if isinstance(turn, int) and not isinstance(turn, bool) and 0 <= turn < n:
        return turn
    return 0 if n == 1 else None


def fault_rows(marker: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The row to record for the ``culprit`` of a marker (crashed or timeout); [] when there is
    none, or for a first death whose cause is unknown (the item is measured again)."""
    at = culprit(marker)
    attempt = marker["attempt"] if isinstance(marker.get("attempt"), int) else 1
    known = marker.get("reason") == "timeout" or bool(os.environ.get(DEATH_ENV)) or attempt >= 2
    if at is None or not known:
        return []
    if marker.get("reason") == "timeout":
        status = "timeout"
        error = (
            f"no progress for {marker.get('limit_s')} s (per-item wall-clock limit); "
            "the process was ended and the run went on"
        )
    else:
        status = "crashed"
        how = os.environ.get(DEATH_ENV) or "segfault, abort or exit"
        error = (
            f"the measuring process died while this item ran ({how}); "
            "recorded so that re-runs go on"
        )
    return [
        {
            **marker["rows"][at],
            "status": status,
            "error": error,
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    ]


TURN_WIDTH = 8
"""Characters of the marker's ``turn`` slot, at a file offset that is a multiple of 8: one
aligned 8-byte copy (a single store on 64-bit CPUs), so a death does not leave it half-written;
a value that is not an index of the batch reads as unknown (``culprit``)."""


def _marker_text(data: Mapping[str, Any], turn: int) -> tuple[bytes, int]:
    """The marker's bytes with ``turn`` last, and the offset of its slot."""
    head = json.dumps(data, default=str)[:-1] + ', "turn": '
    head += " " * (-len(head) % TURN_WIDTH)
    return (head + f"{turn:{TURN_WIDTH}d}" + "}\n").encode("ascii"), len(head)


class InFlight:
    """Marks batches in flight for ``table``, notes whose ``turn`` it is, and, with
    ``limit_s``, ends the process when one item makes no progress for ``limit_s`` (after
    marking it ``timeout``). ``clock`` (monotonic seconds) and ``on_timeout`` (default: exit
    with ``EXIT_TIMEOUT``; the watchdog stops if it returns) are there for tests."""

    def __init__(
        self,
        table: Path,
        limit_s: float | None = None,
        note: bool = True,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_timeout: Callable[[], None] | None = None,
    ):
        self.path, self.limit_s = marker_path(table), limit_s
        self._clock = clock
        self._on_timeout = on_timeout or (lambda: os._exit(EXIT_TIMEOUT))
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._deadline: float | None = None
        self._rows: list[dict[str, Any]] = []
        self._keys: list[str] = []
        self._attempt, self._turn = 1, -1
        self._map: mmap.mmap | None = None
        self._slot = 0
        note_file = os.environ.get(INFLIGHT_NOTE_ENV) if note else None
        if note_file:
            with open(note_file, "a", encoding="utf-8") as fh:
                fh.write(f"{self.path}\n")
        if limit_s is not None:
            threading.Thread(target=self._watch, daemon=True, name="latbench-watchdog").start()

    def start(
        self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]], attempt: int = 1
    ) -> None:
        """Mark one batch as in flight: its items' keys, the rows describing them, and how
        many times it has been tried (2: it was in flight when a process died before)."""
        with self._lock:
            self._keys, self._rows, self._attempt = list(keys), [dict(r) for r in rows], attempt
            self._turn = -1
            self._unmap()
            text, self._slot = _marker_text(
                {
                    "pid": os.getpid(),
                    "keys": self._keys,
                    "rows": self._rows,
                    "reason": "running",
                    "started_at": time.time(),
                    "limit_s": self.limit_s,
                    "attempt": attempt,
                },
                -1,
            )
            write_atomically(self.path, text)
            try:
                with open(self.path, "r+b") as fh:
                    self._map = mmap.mmap(fh.fileno(), len(text))
            except (OSError, ValueError):  # no mmap here: turns go unnoted (whole-group path)
                self._map = None
            if self.limit_s is not None:
                self._deadline = self._clock() + self.limit_s
                self._changed.notify()

    def turn(self, i: int) -> None:
        """Item ``i`` of the batch starts a step: note it in the marker, reset the deadline."""
        with self._lock:
            self._turn = i
            if self._map is not None:
                self._map[self._slot : self._slot + TURN_WIDTH] = b"%8d" % i
            if self._deadline is not None:
                self._deadline = self._clock() + self.limit_s  # type: ignore[operator]

    def finish(self) -> None:
        """The batch's rows are written: nothing is in flight."""
        with self._lock:
            self._deadline, self._rows, self._keys = None, [], []
            self._unmap()
            self.path.unlink(missing_ok=True)

    @property
    def deadline(self) -> float | None:
        """When (``clock`` seconds) the item in flight runs out of time; None: nothing timed."""
        return self._deadline

    def held(self) -> threading.Lock:
        """Hold while writing a batch's rows, so the watchdog cannot fire half-way."""
        return self._lock

    def _unmap(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None

    def _watch(self) -> None:
        # Sleeps until the deadline of the item in flight (woken when a batch starts; a turn
        # only moves the deadline later), so it wakes about once per limit_s while measuring.
        with self._lock:
            while True:
                left = None if self._deadline is None else self._deadline - self._clock()
                if left is None or left > 0:
                    self._changed.wait(timeout=left)
                    continue
                self._timeout_marker()
                self._on_timeout()
                self._deadline = None

    def _timeout_marker(self) -> None:
        """The marker naming the item past its limit (the whole batch when no item's turn)."""
        one = 0 <= self._turn < len(self._keys)
        keys = [self._keys[self._turn]] if one else self._keys
        rows = [self._rows[self._turn]] if one else self._rows
        _write_json(
            self.path,
            {
                "pid": os.getpid(),
                "keys": keys,
                "rows": rows,
                "reason": "timeout",
                "limit_s": self.limit_s,
                "attempt": self._attempt,
                "turn": 0 if one else -1,
                "batch_size": len(self._keys),
            },
        )
