"""`latbench --version` prints `latbench <version>`, the version pyproject.toml declares, without
importing torch, pandas or numpy."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import latbench

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def _declared_version() -> str:
    match = re.search(r'^version = "([^"]+)"$', PYPROJECT.read_text(encoding="utf-8"), re.M)
    assert match, "pyproject.toml declares no version"
    return match.group(1)


def test_version_flag_prints_the_declared_version_and_imports_nothing_heavy():
    code = (
        "import sys; from latbench.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit as exc:\n    assert exc.code == 0\n"
        "print([m for m in sys.modules if m in ('torch', 'pandas', 'numpy')])"
    )
    out = (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()
    )
    assert out[0] == f"latbench {_declared_version()}"
    assert out[-1] == "[]"


def test_package_version_is_pyprojects():
    assert latbench.__version__ == _declared_version()
