"""bench/gpu_check.py's CPU-side logic: the plan, soft skips, time budget and summary."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "bench" / "gpu_check.py")
gpu_check = importlib.util.module_from_spec(_spec)
sys.modules["gpu_check"] = gpu_check  # dataclasses look their module up
_spec.loader.exec_module(gpu_check)


def test_plan_covers_every_gpu_path(tmp_path):
    names = [s.name for s in gpu_check.steps(tmp_path, "cuda:0")]
    assert names == [
        "doctor",
        "devices",
        "profile",
        "measure-nets",
        "fit",
        "evaluate",
        "validate",
        "memory",
        "memory-predict",
        "pytest-cuda",
    ]
    plan = {s.name: " ".join(s.argv) for s in gpu_check.steps(tmp_path, "cuda:0")}
    assert "--backend torch,ort,ort-trt,trt" in plan["validate"]
    assert "memory dints --device cuda:0 --n 20" in plan["memory"]
    assert "--calibrate" in plan["memory-predict"] and "-m cuda" in plan["pytest-cuda"]
    assert all(
        str(tmp_path) in a
        for s in gpu_check.steps(tmp_path, "cuda:0")
        for a in s.argv
        if a.endswith((".csv", ".json")) and "/" in a
    )


def test_dry_run_lists_steps_and_runs_nothing(tmp_path, capsys):
    assert gpu_check.main(["--dry-run", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "memory-predict" in out and "budget 480 s" in out
    assert not (tmp_path / "o").exists()


def test_steps_fail_soft_and_the_summary_says_why(tmp_path, monkeypatch):
    py = sys.executable
    plan = [
        gpu_check.Step(
            "missing",
            "needs TensorRT",
            [py, "-c", "pass"],
            5,
            lambda: "python package 'tensorrt' missing",
        ),
        gpu_check.Step("broken", "exits 3", [py, "-c", "raise SystemExit(3)"], 10),
        gpu_check.Step("fine", "exits 0", [py, "-c", "print('hi')"], 10),
        gpu_check.Step("late", "after the budget", [py, "-c", "pass"], 10),
    ]
    monkeypatch.setattr(gpu_check, "steps", lambda out, device: plan)
    clock = iter([0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 1000.0, 1000.0, 1000.0])
    monkeypatch.setattr(gpu_check.time, "monotonic", lambda: next(clock))
    assert gpu_check.main(["--out", str(tmp_path), "--budget-s", "60"]) == 1
    doc = json.loads((tmp_path / "summary.json").read_text())
    got = {s["name"]: (s["status"], s["why"]) for s in doc["steps"]}
    assert got["missing"] == ("skipped", "python package 'tensorrt' missing")
    assert got["broken"][0] == "failed" and got["fine"][0] == "ok"
    assert got["late"] == ("skipped", "time budget spent")
    assert "| broken | failed |" in (tmp_path / "summary.md").read_text()
    assert "hi" in (tmp_path / "logs" / "fine.log").read_text()


def test_a_predictor_that_was_not_produced_is_left_out(tmp_path):
    argv = ["validate", "--predictor", str(tmp_path / "none.json"), "--json"]
    assert gpu_check._without_missing_inputs(argv) == ["validate", "--json"]


def test_the_profile_step_profiles_what_its_label_says(tmp_path):
    """labelled "small" but nasbench201's own size is paper."""
    plan = {s.name: s.argv for s in gpu_check.steps(tmp_path, "cuda:0")}
    for name in ("profile", "measure-nets"):
        argv = plan[name]
        assert argv[argv.index("--size") + 1] == "small", name
    assert "nasbench201:0:small" in plan["validate"]  # the size the predictor was fitted on


def test_dry_run_skips_steps_whose_inputs_come_from_skipped_steps(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(gpu_check, "_cuda", lambda: "no CUDA GPU visible to torch")
    assert gpu_check.main(["--dry-run", "--out", str(tmp_path / "o")]) == 0
    lines = {
        line.split()[0]: line
        for line in capsys.readouterr().out.splitlines()
        if line and not line.startswith(" ")
    }
    assert "skip: no CUDA" in lines["profile"]
    assert "skip: its input nasbench201-ops.csv comes from a step that is skipped" in lines["fit"]
    assert "skip: its input" in lines["evaluate"] and "skip: its input" in lines["memory-predict"]
    monkeypatch.setattr(gpu_check, "_cuda", lambda: "")
    assert gpu_check.main(["--dry-run", "--out", str(tmp_path / "o")]) == 0
    lines = {
        line.split()[0]: line
        for line in capsys.readouterr().out.splitlines()
        if line and not line.startswith(" ")
    }
    assert all(" run" in lines[n] for n in ("profile", "fit", "evaluate", "memory-predict"))
