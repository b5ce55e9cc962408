"""Where a batch is measured: ``InProcess`` (this process, no isolation), or ``Worker``.

``Worker``: one spawned process, warmed up once and reused, watched so that a fault costs the
item it hit: no progress for ``item_timeout_s`` (per turn: build, warm-up, a round's slice)
SIGKILLs it (``timeout``); a death (segfault, OOM killer) costs the item whose turn it was
(``crashed``); the rest of the batch goes to a fresh worker, one item at a time when none was
at fault. Whose turn it is sits in shared memory, read every ``POLL_S``; past ``max_rss_mb``
the worker is replaced. It ignores SIGINT, dies with the driver (``PR_SET_PDEATHSIG``) and
sends its warnings to the driver, which issues each once (its filters and one-line format).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import multiprocessing
import resource
import signal
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol, TextIO

from latbench.errors import LatbenchError
from latbench.tablerun.job import OnRound, TableJob

POLL_S = 0.25
"""Longest the driver sleeps between looks at the worker's turn and memory (s)."""
START_TIMEOUT_S = 600.0
"""How long a fresh worker may take to import, build the job and warm up (s)."""
_FORWARDED: dict[str | tuple[str, type[Warning], int], int] = {}  # warn_explicit's registry


@dataclass
class Fault:
    """A batch that did not come back: the item at fault (None: unknown), its ``status`` and
    the error to record."""

    at: int | None
    status: str
    error: str


Rows = list[dict[str, Any]]
OnBatchRound = Callable[[int, int, int], None]
"""``on_round(done, rounds, n_items)``: the batch of ``n_items`` in flight finished a round."""


class Executor(Protocol):
    """Measures the batches of ``queue`` (the driver may add to it between two results) until
    none is left or in flight, yielding each with its rows or the ``Fault`` that lost it."""

    def results(
        self, job: TableJob[Any], queue: deque[list[Any]], on_round: OnBatchRound | None
    ) -> Iterator[tuple[list[Any], Rows | Fault]]: ...

    def close(self) -> None:
        """Stop measuring (the run ended, or was interrupted)."""


class InProcess:
    """Measures in the calling process, one batch at a time: no isolation, no time limit."""

    def measure(
        self, job: TableJob[Any], items: Sequence[Any], on_round: OnRound | None
    ) -> Rows | Fault:
        return job.measure(items, on_round)

    def results(
        self, job: TableJob[Any], queue: deque[list[Any]], on_round: OnBatchRound | None
    ) -> Iterator[tuple[list[Any], Rows | Fault]]:
        while queue:
            batch = queue.popleft()
            rounds = None if on_round is None else functools.partial(_rounds, on_round, len(batch))
            yield batch, self.measure(job, batch, rounds)

    def close(self) -> None:
        """Nothing to stop."""


def _rounds(on_round: OnBatchRound, n: int, done: int, rounds: int) -> None:
    on_round(done, rounds, n)


def _nominal(job: TableJob[Any]) -> float | None:
    """The drift reference's nominal time, handed to the next worker (one drift scale)."""
    return getattr(getattr(job, "timer", None), "reference_nominal_ms", None)


def _serve(conn: Connection, job: TableJob[Any], nominal: float | None, turns: Any) -> None:
    """The worker's loop: warm up once, then measure each batch received, until ``None``."""
    with contextlib.suppress(OSError, AttributeError):  # die with the driver, even by SIGKILL
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # Linux PR_SET_PDEATHSIG
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def forward(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        conn.send(("warning", str(message), category, filename, lineno))

    warnings.showwarning = forward
    if nominal is not None:
        job.timer.reference_nominal_ms = nominal  # type: ignore[attr-defined]
    job.warm_up()
    conn.send(("ready",))

    def on_turn(i: int) -> None:
        turns[0] = i
        turns[1] += 1

    def on_round(done: int, rounds: int) -> None:
        conn.send(("round", done, rounds))

    while (items := conn.recv()) is not None:
        turns[0] = -1
        rows = job.measure(items, on_round, on_turn)
        conn.send(("rows", rows, _nominal(job)))


def rss_mb(pid: int) -> float | None:
    """Resident memory of process ``pid`` (MiB, from ``/proc``); None where unknown."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * resource.getpagesize() / 2**20


def _death(exitcode: int | None) -> str:
    if exitcode is None:
        return "it stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (the kernel's out-of-memory killer, or a user)" if name == "SIGKILL" else ""
        return f"{name}{hint}"
    return f"exit status {exitcode}"


@dataclass
class Worker(InProcess):
    """One spawned measuring process, started on first use, replaced after a fault or past
    ``max_rss_mb`` (MiB); ``item_timeout_s``: the per-turn limit; ``on_note``: replacements."""

    item_timeout_s: float | None = None
    max_rss_mb: float | None = None
    on_note: Callable[[str], None] = lambda text: None
    _proc: Any = field(default=None, repr=False)
    _conn: Any = field(default=None, repr=False)
    _turns: Any = field(default=None, repr=False)
    _nominal: float | None = field(default=None, repr=False)

    def _start(self, job: TableJob[Any]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._turns = ctx.RawArray("q", 2)
        self._conn, theirs = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve,
            args=(theirs, job, self._nominal, self._turns),
            name="latbench-worker",
            daemon=True,
        )
        self._proc.start()
        theirs.close()
        reply = self._wait(START_TIMEOUT_S, None)
        if not isinstance(reply, tuple) or reply[0] != "ready":
            why = reply.error if isinstance(reply, Fault) else "no answer"
            self.close()
            raise LatbenchError(f"the measuring worker process could not start: {why}")

    def measure(
        self, job: TableJob[Any], items: Sequence[Any], on_round: OnRound | None
    ) -> Rows | Fault:
        """Rows for ``items``, or the ``Fault`` that ended the worker (then stopped)."""
        if self._proc is None:
            self._start(job)
        self._turns[0], self._turns[1] = -1, 0
        self._conn.send(list(items))
        while True:
            reply = self._wait(self.item_timeout_s, on_round, len(items))
            if isinstance(reply, Fault):
                self._stop(kill=True)
                return reply
            if reply[0] == "rows":
                self._nominal = reply[2]
                self._recycle()
                return list(reply[1])

    def _recycle(self) -> None:
        rss = rss_mb(self._proc.pid)
        if self.max_rss_mb is not None and rss is not None and rss > self.max_rss_mb:
            self.on_note(
                f"the measuring worker holds {rss:.0f} MiB (bound {self.max_rss_mb:g} MiB); "
                "starting a fresh one for the next items"
            )
            self._stop(kill=False)

    def _wait(self, limit_s: float | None, on_round: OnRound | None, n: int = 0) -> Any:
        """The worker's next message but progress, or the ``Fault`` (dead, or stuck ``limit_s``)."""
        deadline = None if limit_s is None else time.monotonic() + limit_s
        ticks = self._turns[1]
        while True:
            ready = wait([self._conn, self._proc.sentinel], POLL_S)
            if self._conn in ready:
                try:
                    msg = self._conn.recv()
                except (EOFError, OSError):
                    return self._dead(n)
                if msg[0] == "warning":
                    _, text, category, filename, lineno = msg
                    warnings.warn_explicit(text, category, filename, lineno, registry=_FORWARDED)
                elif msg[0] != "round":
                    return msg
                elif on_round is not None:
                    on_round(msg[1], msg[2])
                continue
            if ready:
                return self._dead(n)
            if self._turns[1] != ticks:
                ticks = self._turns[1]
                deadline = None if limit_s is None else time.monotonic() + limit_s
            if deadline is not None and time.monotonic() > deadline:
                return Fault(
                    self._culprit(n),
                    "timeout",
                    f"no progress for {limit_s} s (per-item wall-clock limit); the measuring "
                    "process was killed and the run went on",
                )

    def _dead(self, n: int) -> Fault:
        self._proc.join(5)
        return Fault(
            self._culprit(n),
            "crashed",
            f"the measuring process died while this item ran ({_death(self._proc.exitcode)}); "
            "recorded so that re-runs go on",
        )

    def _culprit(self, n: int) -> int | None:
        turn = int(self._turns[0])
        return turn if 0 <= turn < n else (0 if n == 1 else None)

    def _stop(self, kill: bool) -> None:
        if self._proc is None:
            return
        if not kill:
            with contextlib.suppress(OSError):
                self._conn.send(None)
                self._proc.join(5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._conn.close()
        self._proc = self._conn = None

    def close(self) -> None:
        """Stop the worker now (Ctrl-C, the end of a run)."""
        self._stop(kill=True)
