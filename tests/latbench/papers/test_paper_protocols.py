"""``latbench validate --protocol rtdnas|stnas|dyncell``: each paper's deployment protocol end
to end on the CPU at small size (few frames), and the one-line error for a wrong space."""

from __future__ import annotations

import json

import pytest

from latbench.cli import main
from latbench.papers import RTDNAS_LATENCY_UB_MS, RTDNAS_MIN_FPS, STNAS_WINDOW


def _json(capsys) -> dict:  # noqa: ANN001
    return json.loads(capsys.readouterr().out)


def test_rtdnas_protocol_applies_the_papers_limits(tmp_path, capsys):
    rc = main(
        [
            "validate",
            "msnas:0",
            "--protocol",
            "rtdnas",
            "--backend",
            "torch",
            "--threads",
            "1",
            "--measure-ms",
            "60",
            "--out",
            str(tmp_path),
            "--json",
        ]
    )
    doc = _json(capsys)
    assert doc["budget_ms"] == RTDNAS_LATENCY_UB_MS and doc["min_fps"] == RTDNAS_MIN_FPS
    (torch_run,) = doc["backends"]
    assert torch_run["budget"]["budget_ms"] == 50.0 and torch_run["budget"]["min_fps"] == 22.0
    # the verdict follows the measurement against those limits
    budget = torch_run["budget"]
    assert budget["latency_ok"] == (budget[budget["statistic"]] <= 50.0)
    assert rc == (0 if doc["passed"] else 1)


@pytest.mark.slow
def test_stnas_protocol_fps_over_the_window(tmp_path, capsys):
    assert (
        main(
            [
                "validate",
                "stnas-decoder:0",
                "--protocol",
                "stnas",
                "--n-frames",
                "3",
                "--threads",
                "1",
                "--out",
                str(tmp_path),
                "--json",
            ]
        )
        == 0
    )
    doc = _json(capsys)
    assert doc["protocol"] == "stnas-fps" and doc["n_frames"] == 3
    assert doc["fps"] == pytest.approx(1000.0 / doc["frame_mean_ms"])
    assert any("adapted" in n for n in doc["notes"])  # small size: encoder -> decoder adapter
    assert (tmp_path / "stnas-decoder-s0-small.stnas.json").is_file()
    assert STNAS_WINDOW == 11
    _has_environment(doc)


def _has_environment(doc: dict) -> None:
    """What plain validate reports carry: fingerprint, threads, busy warning."""
    from latbench.device import fingerprint

    assert doc["fingerprint"]["slug"] == fingerprint("cpu", threads=1)["slug"]
    assert doc["threads"] == 1 and isinstance(doc["warnings"], list)


def test_frame_protocols_say_when_the_machine_is_busy(tmp_path, capsys, monkeypatch):
    import latbench.deploy.validate as validate_module

    monkeypatch.setattr(validate_module, "busy_warnings", lambda: ["machine busy: load 9"])
    assert (
        main(
            [
                "validate",
                "stnas-decoder:0",
                "--protocol",
                "stnas",
                "--n-frames",
                "2",
                "--threads",
                "1",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = " ".join(capsys.readouterr().out.split())
    assert "machine busy: load 9" in out and "1 torch thread(s)" in out
    assert "encoder blocks per stage 2,2,6,2 (default: full depth" in out  # the default


@pytest.mark.slow
def test_dyncell_protocol_first_frame_full_then_cell(tmp_path, capsys):
    assert (
        main(
            [
                "validate",
                "dyncell:0",
                "--protocol",
                "dyncell",
                "--n-frames",
                "4",
                "--threads",
                "1",
                "--out",
                str(tmp_path),
                "--json",
            ]
        )
        == 0
    )
    doc = _json(capsys)
    assert doc["protocol"] == "dynamic-cell" and doc["n_frames"] == 4
    assert doc["first_frame_ms"] > 0 and doc["following_mean_ms"] > 0
    per_frame = (doc["first_frame_ms"] + 3 * doc["following_mean_ms"]) / 4
    assert doc["frame_mean_ms"] == pytest.approx(per_frame, rel=1e-6)
    assert any("stands in" in n for n in doc["notes"])
    _has_environment(doc)


def test_frame_protocol_refuses_another_space(tmp_path, capsys):
    assert main(["validate", "msnas:0", "--protocol", "stnas", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs a stnas-decoder architecture" in err[0]
