"""``latbench memory``: predict from a JSON architecture, errors as one line with exit 2."""

from __future__ import annotations

from pathlib import Path

from latbench.architecture import INPUT, Architecture, Edge
from latbench.cli import main
from latbench.opspec import OpSpec


def test_predict_an_architecture_file(tmp_path, capsys):
    op = OpSpec.make("conv", (1, 4, 16, 16, 16), norm="in", act="relu")
    path = tmp_path / "net.json"
    path.write_text(Architecture("hand3d", (Edge((INPUT,), "n1", op),), "n1").to_json())
    assert main(["memory", str(path), "--predict"]) == 0
    out = capsys.readouterr().out
    assert "an estimate" in out and "not calibrated" in out


def test_missing_architecture_file_is_a_clear_error(tmp_path, capsys):
    assert main(["memory", str(tmp_path / "nope.json"), "--predict"]) == 2
    assert "nope.json: no such architecture file" in capsys.readouterr().err


def test_a_latency_table_as_a_memory_table_is_named_by_its_schema(capsys):
    """Was 'table has no column rss_growth_mib' (no file named) for --calibrate, and a
    hand-made column check for fit --kind memory."""
    latency = Path(__file__).parents[3] / "device_profiles/cpu-amd-epyc-1t/msnas-small.csv"
    for argv in (
        ["memory", "dints:0:small", "--predict", "--calibrate", str(latency)],
        ["fit", "--kind", "memory", str(latency), "-o", "never-written.json"],
    ):
        capsys.readouterr()
        assert main(argv) == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            f"latbench: error: {latency}: is a latbench.latency table (its side-car's schema); "
            "this command reads and writes latbench.memory tables"
        ]
