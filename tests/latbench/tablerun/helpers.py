"""Running ``latbench`` as a user does, in a subprocess, with the test-only fault ops loaded as
a plugin file (so its measuring worker loads them too)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PYTHON = sys.executable


def latbench_cmd(*args: str) -> list[str]:
    """``python -m latbench ARGS``."""
    return [PYTHON, "-m", "latbench", *args]


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = str(REPO) + os.pathsep + out.get("PYTHONPATH", "")
    out["LATBENCH_PLUGINS"] = str(HERE / "fault_space.py")
    return out


def popen(*args: str, cwd: Path | None = None, **options: object) -> subprocess.Popen:
    return subprocess.Popen(
        latbench_cmd(*args),
        cwd=cwd or REPO,
        env=env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **options,
    )


FAST = ("--threads", "1", "--budget-ms", "2", "--warmup-ms", "1")
