"""`latbench show` at 80 columns: numbers whole, op params and the fastest sample visible, and
a CPU memory table shows the columns it has, not empty GPU ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from latbench.cli import main, ui
from latbench.tables import read_table

PROFILES = Path(__file__).resolve().parents[3] / "device_profiles" / "cpu-amd-epyc-1t"


@pytest.fixture
def narrow(monkeypatch):
    monkeypatch.setattr(ui.console, "width", 80)  # no-op for a non-terminal console
    monkeypatch.setattr(ui.console, "_width", 80, raising=False)


def test_latency_table_at_80_columns(narrow, capsys):
    path = PROFILES / "msnas-small.csv"
    if not path.is_file():
        pytest.skip("no committed msnas table")
    assert main(["show", str(path), "--limit", "8", "--sort", "latency_median_ms"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "fastest ms" in out and "params" in out and "kernel=5" in out
    df = read_table(path).sort_values("latency_median_ms", ascending=False).head(8)
    for value in list(df["latency_median_ms"]) + list(df["latency_min_ms"]):
        assert f"{value:.4g}" in out  # each number on one line, not folded


def test_cpu_memory_table_shows_its_real_columns(narrow, capsys):
    path = PROFILES / "memory-dints-small.csv"
    if not path.is_file():
        pytest.skip("no committed memory table")
    assert main(["show", str(path), "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "RSS growth MiB" in out
    assert "reserved MiB" not in out and "nan" not in out
    first = read_table(path)["rss_growth_mib"].iloc[0]
    assert f"{first:.4g}" in out


def test_memory_measure_prints_the_rows_it_measured(narrow, capsys):
    from latbench.cli.memory import _print_measured

    _print_measured(
        [
            {
                "key": "arch:abc",
                "arch_id": "abc",
                "rss_growth_mib": 25.875,
                "rss_peak_mib": 374.7,
                "status": "ok",
            }
        ],
        cpu=True,
        labels={"abc": "timm:resnet18@2x3x64x64"},
    )
    out = capsys.readouterr().out
    assert "timm:resnet18@2x3x64x64" in out and "25.88" in out and "RSS growth MiB" in out


def test_output_to_a_pipe_keeps_long_lines_whole():
    """Piped (a log file), a table row or a path longer than 80 columns is not folded; an
    explicit COLUMNS still wins."""
    import os
    import subprocess
    import sys

    code = "from latbench.cli import ui; print(ui.console.width, ui.err_console.width)"
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    piped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert piped.stdout.split() == [str(ui.PIPE_WIDTH)] * 2
    env["COLUMNS"] = "100"
    narrow = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert narrow.stdout.split() == ["100", "100"]
