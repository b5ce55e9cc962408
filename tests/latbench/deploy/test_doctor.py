"""The version doctor's table and verdicts (Pascal, Volta, Turing+), with and without a GPU."""

from __future__ import annotations

import json

import pytest

from latbench.cli import main
from latbench.deploy import doctor
from latbench.deploy.doctor import parse_version, supported_versions, torch_build, verdict


@pytest.mark.parametrize("package,version,cc,ok", [
    ("tensorrt", "8.6.1.6", 6.0, True),        # P100: TensorRT 8.6 is the last
    ("tensorrt", "10.0.1", 6.1, False),        # GTX 1080Ti: not TensorRT 10
    ("tensorrt", "10.4.0", 7.0, True),         # V100: up to 10.4
    ("tensorrt", "10.5.0", 7.0, False),        # Volta removed in 10.5
    ("tensorrt", "10.13.3", 9.0, True),
    ("onnxruntime-gpu", "1.26.1", 6.1, True),  # Pascal: onnxruntime-gpu <= 1.26
    ("onnxruntime-gpu", "1.27.0", 6.0, False),
    ("onnxruntime-gpu", "1.27.0", 8.6, True),
])
def test_verdicts_follow_the_table(package, version, cc, ok):
    text = verdict(package, version, cc)
    assert (text == "ok") is ok, text
    if not ok:
        assert text.startswith(f"unsupported on sm_{int(cc * 10)}: use")


def test_unsupported_verdict_names_the_versions_to_install():
    assert "8.6 .. 8.6.99" in verdict("tensorrt", "10.0.1", 6.1)
    assert "10.0 .. 10.4.99" in verdict("tensorrt", "10.5.0", 7.0)
    assert verdict("tensorrt", None, 7.0) == "not installed"


def test_torch_builds_by_cuda_version():
    assert [torch_build(c) for c in (None, "12.6", "12.8", "13.0")] == [
        "cpu", "cu126", "cu128", "cu130"]
    assert verdict("torch", "2.13.0", 6.1, "cu126") == "ok"
    assert verdict("torch", "2.13.0", 6.1, "cu130").startswith("unsupported")
    assert verdict("torch", "2.10.0", 7.0, "cu128") == "ok"
    assert verdict("torch", "2.11.0", 7.0, "cu128").startswith("unsupported")


def test_pascal_gets_only_old_tensorrt():
    assert [r.versions() for r in supported_versions("tensorrt", 6.1)] == ["8.6 .. 8.6.99"]
    assert parse_version("2.13.0+cpu") == (2, 13, 0)


def test_no_gpu_still_lists_installed(monkeypatch):
    monkeypatch.setattr(doctor, "detect_gpus", lambda: [])
    found = doctor.diagnose()
    assert found["checks"] == [] and "no GPU visible" in found["note"]
    assert "torch" in found["installed"] and "onnxruntime" in found["installed"]


def test_cli_doctor_json_for_a_named_capability(capsys):
    rc = main(["doctor", "--cc", "6.0", "--json"])
    found = json.loads(capsys.readouterr().out)
    assert rc == 0 and {c["package"] for c in found["checks"]} == {
        "tensorrt", "onnxruntime-gpu", "torch"}
    assert all(c["cc"] == "6.0" for c in found["checks"])
