"""Running measuring commands from the repository leaves ``git status`` as it was: tables go
to ``./latbench-tables`` (git-ignored) and never into the committed ``device_profiles/``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.slow
@pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout")
def test_profile_and_measure_nets_from_the_repository_leave_git_status_clean():
    home = REPO / "latbench-tables"
    existed = home.exists()
    before = _status()
    env = {k: v for k, v in os.environ.items() if k not in ("LATBENCH_HOME",)}
    fast = [
        "--size",
        "small",
        "--threads",
        "1",
        "--budget-ms",
        "1",
        "--warmup-ms",
        "1",
        "--item-timeout",
        "0",
    ]  # nasbench201 defaults to its paper size
    try:
        for args in (
            ["profile", "nasbench201", "--sample", "3", *fast],
            ["measure-nets", "nasbench201", "--n", "1", *fast],
        ):
            proc = subprocess.run(
                [sys.executable, "-m", "latbench", *args],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert proc.returncode == 0, proc.stderr[-1500:]
            assert "latbench-tables" in proc.stdout
        assert _status() == before
        assert list(home.glob("*/nasbench201-small.csv"))
    finally:
        if not existed:
            shutil.rmtree(home, ignore_errors=True)
