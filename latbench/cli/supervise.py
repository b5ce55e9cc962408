"""Measuring commands run in a supervised child process, so a poison op cannot stop a run.

``latbench profile|measure-nets|memory`` re-runs itself (same interpreter, same arguments) as a
child and waits. When the child dies while an item was in flight (a segfault or abort in an op's
forward, an op calling ``os._exit``, the watchdog ending an item that made no progress for
``--item-timeout`` seconds), the in-flight marker it left says so, and which item of the batch
(an interleaved group) was running; the supervisor starts the child again (``DEATH_ENV`` says
how the last one died), which records that item (``status=crashed`` or ``timeout``) and
measures the rest of its group as usual: one restart per poison op. Only a marker that names
no running item (a death before the batch's first turn) has its items measured one at a time
first, so that a second death names the culprit. Ctrl-C and SIGTERM end the child and the
supervisor alike, keeping every row written (exit 130 / 143).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from latbench.tablerun.inflight import DEATH_ENV, INFLIGHT_NOTE_ENV

SUPERVISED_ENV = "LATBENCH_SUPERVISED"
MEASURING = frozenset({"profile", "measure-nets", "memory"})
MAX_RESTARTS = 1000


def wanted(args: list[str]) -> bool:
    """Supervise this command line (``sys.argv[1:]``): a measuring command, not help, not
    ``memory --predict``, not a Ray driver (its workers measure), not already supervised.
    Decided before parsing, so the supervisor imports nothing heavy; the child parses and
    reports bad arguments itself."""
    ray = any(a == "--ray" or a.startswith("--ray=") for a in args)
    return (
        bool(args)
        and args[0] in MEASURING
        and not {"-h", "--help", "--predict"} & set(args)
        and not ray
        and os.environ.get(SUPERVISED_ENV) != "1"
        and bool(getattr(sys, "orig_argv", None))
    )


def _markers(note: Path) -> list[Path]:
    try:
        return [Path(line) for line in note.read_text(encoding="utf-8").splitlines() if line]
    except OSError:
        return []


def _marker_state(note: Path) -> str:
    """The in-flight markers the child left (their text), or '' when none."""
    texts = []
    for marker in _markers(note):
        try:
            texts.append(marker.read_text(encoding="utf-8"))
        except OSError:
            continue
    return "\n".join(texts)


def _describe(rc: int) -> str:
    if rc < 0:
        try:
            return f"signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"signal {-rc}"
    return f"exit status {rc}"


def supervise() -> int:
    """Run this command line as a child until it ends without an item in flight."""
    with tempfile.TemporaryDirectory(prefix="latbench-") as tmp:
        note = Path(tmp) / "inflight"
        env = {**os.environ, SUPERVISED_ENV: "1", INFLIGHT_NOTE_ENV: str(note)}
        cmd = [sys.executable, *sys.orig_argv[1:]]
        last = None
        for _ in range(MAX_RESTARTS):
            rc = _run(cmd, env)
            if rc == -signal.SIGTERM:  # ended before its own handler was installed
                print(
                    "latbench: terminated (SIGTERM); every row written so far is kept",
                    file=sys.stderr,
                )
                return 143
            state = _marker_state(note)
            # 1 is Python's own exit on an uncaught error (a latbench bug, a full disk): not the
            # op's doing; and a marker unchanged since the last restart means no progress.
            if rc in (0, 1, 2, 130, 143) or not state or state == last:
                return rc if rc >= 0 else 128 - rc
            last = state
            env[DEATH_ENV] = _describe(rc)
            print(
                f"latbench: the measuring process died ({_describe(rc)}) while an item was "
                "in flight; restarting to record it and go on",
                file=sys.stderr,
            )
        return 1


def _die_with_parent() -> None:
    """In the child (Linux): receive SIGTERM when the supervisor dies, even by SIGKILL, so a
    killed run stops measuring and releases the table (its marker removed: not a crash)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run(cmd: list[str], env: dict[str, str]) -> int:
    parent = os.getpid()

    def preexec() -> None:
        _die_with_parent()
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os._exit(143)

    child = subprocess.Popen(
        cmd, env=env, preexec_fn=preexec if sys.platform.startswith("linux") else None
    )
    previous = signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # the child got the same Ctrl-C; wait for its answer
                continue
    finally:
        signal.signal(signal.SIGTERM, previous)
