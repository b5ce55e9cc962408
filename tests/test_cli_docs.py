"""docs/cli.md is every command's `--help` as the parsers print it now: rendered in memory by
scripts/gen_cli_docs.py and compared with the committed file."""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_cli_docs", REPO / "scripts" / "gen_cli_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_matches_the_parsers(monkeypatch):
    gen = _generator()
    committed = gen.TARGET.read_text(encoding="utf-8")
    rendered_with = re.search(r"\(Python (\d+\.\d+)\)", committed)
    if rendered_with and rendered_with.group(1) != gen.python_version():
        pytest.skip(
            f"docs/cli.md was rendered by Python {rendered_with.group(1)}'s argparse, "
            f"whose wording differs from {gen.python_version()}'s"
        )
    for name in [n for n in os.environ if n.startswith("LATBENCH_")]:
        monkeypatch.delenv(name)  # e.g. plugins named in the environment add choices
    monkeypatch.setenv("COLUMNS", "37")  # the reference must not follow the terminal
    rendered = gen.render()
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(True), rendered.splitlines(True), "docs/cli.md", "--help now", n=1
        )
    )
    assert rendered == committed, (
        f"docs/cli.md is out of date: run `{gen.COMMAND}` and commit it\n{diff[:3000]}"
    )
