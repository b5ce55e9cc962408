"""Running ``latbench`` as a user does, in a subprocess, with the test-only fault ops loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PYTHON = sys.executable

CLI = (
    "import sys; sys.path.insert(0, {here!r}); from latbench.cli import main, supervise; "
    "supervise.wanted(sys.argv[1:]) or __import__('fault_space'); sys.exit(main())"
)


def latbench_cmd(*args: str) -> list[str]:
    """``python -c '<load fault ops; latbench main>' ARGS`` (supervised like the real CLI).

    The supervisor does not load the fault ops (nor torch): like the real CLI's, it starts in
    well under a second; only the child that measures pays for the imports."""
    return [PYTHON, "-c", CLI.format(here=str(HERE)), *args]


def env() -> dict[str, str]:
    out = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LATBENCH_SUPERVISED", "LATBENCH_INFLIGHT_NOTE")
    }
    out["PYTHONPATH"] = str(REPO) + os.pathsep + out.get("PYTHONPATH", "")
    return out


def popen(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        latbench_cmd(*args),
        cwd=cwd or REPO,
        env=env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


FAST = ("--threads", "1", "--budget-ms", "2", "--warmup-ms", "1")
