"""latbench installs one top-level name: ``nas/`` and ``predictors/`` are
``latbench.nas`` and ``latbench.predictors``, in a checkout and in an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]


def test_every_package_folder_is_listed_under_its_installed_name():
    cfg = _pyproject()
    assert "package-dir" not in cfg  # the links below, not a mapping (mypy and IDEs follow links)
    want = set()
    for folder, _, files in os.walk(REPO / "latbench", followlinks=True):
        if "__init__.py" in files:
            want.add(".".join(Path(folder).relative_to(REPO).parts))
    assert set(cfg["packages"]) == want
    assert all(p == "latbench" or p.startswith("latbench.") for p in cfg["packages"])


def test_nas_and_predictors_are_links_to_the_top_level_folders():
    for name in ("nas", "predictors"):
        link = REPO / "latbench" / name
        assert link.is_symlink() and link.resolve() == (REPO / name).resolve()


@pytest.mark.slow  # a fresh interpreter imports torch
def test_the_two_folders_import_only_under_latbench():
    code = (
        "import sys, latbench.nas.ga, latbench.predictors.lookup, latbench.papers.stnas.search\n"
        "import latbench.predictors as p\n"
        "assert 'nas' not in sys.modules and 'predictors' not in sys.modules, "
        "[m for m in sys.modules if m.split('.')[0] in ('nas', 'predictors')]\n"
        "print(p.__file__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert Path(out.strip()).resolve() == (REPO / "predictors" / "__init__.py").resolve()


@pytest.mark.slow
def test_the_wheel_holds_no_top_level_nas_or_predictors(tmp_path):
    pytest.importorskip("setuptools")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    import zipfile

    (wheel,) = tmp_path.glob("latbench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if n.endswith(".py")}
    assert tops == {"latbench"}, tops
    assert "latbench/nas/__init__.py" in names
    assert "latbench/predictors/__init__.py" in names
    assert "latbench/nas/ga.py" in names
