"""The version doctor's table and verdicts (Pascal, Volta, Turing+), with and without a GPU."""

from __future__ import annotations

import json

import pytest

from latbench.cli import main
from latbench.deploy import doctor
from latbench.deploy.doctor import parse_version, supported_versions, torch_build, verdict

# What runs where, with the source of each fact (see latbench.deploy.doctor.SOURCES):
# TRT: 8.5 last for Kepler/Maxwell (8.5.2/8.5.3 release notes; 8.6.1 support matrix starts at
# cc 6.0), 8.6 last for Pascal (10.0 support matrix: SM 7.0+), 10.4 last for Volta (10.5 notes);
# 8.0-8.4 end at cc 8.7 (8.4 support matrix; Ada/Hopper from 8.5.1).
# onnxruntime-gpu: CUDA 12 wheels archs 60..90 through 1.26, CUDA 13 wheels 75+ from 1.27
# (microsoft/onnxruntime PR #26516).
# torch: cu118 2.0-2.7 has sm_37 (cuobjdump, moi90/pytorch_compute_capabilities); cu121/cu124
# sm_50-90; cu126 starts at 2.6 (pytorch.org previous versions) sm_50-90; 2.7 cu128 sm_75+;
# cu128 2.8-2.10 sm_70+, 2.11+ sm_75+; cu130 sm_75+ (pytorch RELEASE.md, RFC #172352).
TRT_OLD, TRT_PASCAL = ["8.0 .. 8.4.x", "8.5.x"], ["8.0 .. 8.4.x", "8.5.x", "8.6.x"]
TRT_NEW = ["8.5.x", "8.6.x", "10.0 .. 10.4.x", "10.5 .. 10.7.x", ">= 10.8"]
TORCH_OLD = ["2.0 .. 2.7.x +cu118", "2.1 .. 2.6.x +cu12x", ">= 2.6 +cu126"]
TORCH_NEW = TORCH_OLD + ["2.7.x +cu128", "2.8 .. 2.10.x +cu128", ">= 2.11 +cu128", ">= 2.9 +cu130"]
ORT_ALL = ["1.19 .. 1.26.x", ">= 1.27"]
EXPECTED = {  # cc: (tensorrt, onnxruntime-gpu, torch)
    3.7: (TRT_OLD, [], ["2.0 .. 2.7.x +cu118"]),
    5.2: (TRT_OLD, [], TORCH_OLD),
    6.0: (TRT_PASCAL, ["1.19 .. 1.26.x"], TORCH_OLD),
    6.1: (TRT_PASCAL, ["1.19 .. 1.26.x"], TORCH_OLD),
    7.0: (
        TRT_PASCAL + ["10.0 .. 10.4.x"],
        ["1.19 .. 1.26.x"],
        TORCH_OLD + ["2.8 .. 2.10.x +cu128"],
    ),
    7.5: (["8.0 .. 8.4.x"] + TRT_NEW, ORT_ALL, TORCH_NEW),
    8.0: (["8.0 .. 8.4.x"] + TRT_NEW, ORT_ALL, TORCH_NEW),
    8.6: (["8.0 .. 8.4.x"] + TRT_NEW, ORT_ALL, TORCH_NEW),
    8.9: (TRT_NEW, ORT_ALL, TORCH_NEW),
    9.0: (TRT_NEW, ORT_ALL, TORCH_NEW),
}


@pytest.mark.parametrize("cc", sorted(EXPECTED))
def test_support_table_per_compute_capability(cc):
    for package, want in zip(("tensorrt", "onnxruntime-gpu", "torch"), EXPECTED[cc]):
        got = [r.versions() for r in supported_versions(package, cc)]
        assert sorted(got) == sorted(want), (cc, package)
        assert all(r.source in doctor.SOURCES for r in supported_versions(package, cc))


@pytest.mark.parametrize(
    "package,version,cc,ok",
    [
        ("tensorrt", "8.5.3.1", 3.7, True),  # K80: TensorRT 8.5 is the last for Kepler
        ("tensorrt", "8.6.1.6", 3.7, False),
        ("tensorrt", "8.5.3.1", 5.2, True),  # Maxwell: 8.5.3 is the last
        ("tensorrt", "8.6.1.6", 5.2, False),  # 8.6 dropped Maxwell
        ("tensorrt", "8.5.3.1", 6.1, True),
        ("tensorrt", "8.6.1.6", 6.0, True),  # P100: TensorRT 8.6 is the last
        ("tensorrt", "10.0.1", 6.1, False),  # GTX 1080Ti: not TensorRT 10
        ("tensorrt", "10.4.0", 7.0, True),  # V100: up to 10.4
        ("tensorrt", "10.5.0", 7.0, False),  # Volta removed in 10.5
        ("tensorrt", "10.13.3", 9.0, True),
        ("onnxruntime-gpu", "1.26.1", 6.1, True),  # Pascal: onnxruntime-gpu <= 1.26
        ("onnxruntime-gpu", "1.27.0", 6.0, False),
        ("onnxruntime-gpu", "1.27.0", 8.6, True),
    ],
)
def test_verdicts_follow_the_table(package, version, cc, ok):
    text = verdict(package, version, cc)
    assert (text == "ok") is ok, text
    if not ok:
        assert text.startswith(f"unsupported on sm_{int(round(cc * 10))}: use")


def test_unsupported_verdict_names_the_versions_to_install():
    assert "8.6.x" in verdict("tensorrt", "10.0.1", 6.1)
    assert (
        "8.5.x" in verdict("tensorrt", "8.6.1", 5.2)
        and "8.6" not in verdict("tensorrt", "8.6.1", 5.2).split("use")[1]
    )
    assert "10.0 .. 10.4.x" in verdict("tensorrt", "10.5.0", 7.0)
    assert verdict("tensorrt", None, 7.0) == "not installed"


def test_torch_builds_by_cuda_version():
    assert [torch_build(c) for c in (None, "11.8", "12.4", "12.6", "12.8", "13.0")] == [
        "cpu",
        "cu118",
        "cu12x",
        "cu126",
        "cu128",
        "cu130",
    ]
    assert verdict("torch", "2.13.0", 6.1, "cu126") == "ok"
    assert verdict("torch", "2.5.1", 6.1, "cu126").startswith("unsupported")  # cu126 from 2.6
    assert verdict("torch", "2.13.0", 6.1, "cu130").startswith("unsupported")
    assert verdict("torch", "2.10.0", 7.0, "cu128") == "ok"
    assert verdict("torch", "2.11.0", 7.0, "cu128").startswith("unsupported")
    assert verdict("torch", "2.7.1", 3.7, "cu118") == "ok"


def test_pip_commands_install_the_newest_fitting_release():
    rows = supported_versions("tensorrt", 5.2)
    assert max(rows, key=lambda r: r.first).pip_command() == "pip install 'tensorrt>=8.5,<8.6'"
    (cu126,) = [r for r in supported_versions("torch", 6.1) if r.build == "cu126"]
    assert cu126.pip_command().endswith("--index-url https://download.pytorch.org/whl/cu126")
    assert parse_version("2.13.0+cpu") == (2, 13, 0)


def test_no_gpu_still_lists_installed(monkeypatch):
    monkeypatch.setattr(doctor, "detect_gpus", lambda: [])
    found = doctor.diagnose()
    assert found["checks"] == [] and "no GPU visible" in found["note"]
    assert "torch" in found["installed"] and "onnxruntime" in found["installed"]


def test_cli_doctor_json_for_a_named_capability(capsys):
    rc = main(["doctor", "--cc", "6.0", "--json"])
    found = json.loads(capsys.readouterr().out)
    assert {c["package"] for c in found["checks"]} == {"tensorrt", "onnxruntime-gpu", "torch"}
    assert all(c["cc"] == "6.0" for c in found["checks"])
    assert all(r["source"] for c in found["checks"] for r in c["rows"])
    assert rc == found["exit_code"]


@pytest.mark.parametrize("cc", ["6.1", "9.0"])
def test_exit_code_is_the_same_with_and_without_json(cc, capsys, monkeypatch):
    monkeypatch.setattr(
        doctor, "installed_versions", lambda: {"tensorrt": "10.0.1", "torch": "2.13.0+cu126"}
    )
    monkeypatch.setattr(doctor, "detect_gpus", lambda: [])
    plain = main(["doctor", "--cc", cc])
    out = capsys.readouterr().out
    assert plain == main(["doctor", "--cc", cc, "--json"]) == (1 if cc == "6.1" else 0)
    assert out.count("no GPU visible") == 1  # the note once, not twice
    if cc == "6.1":
        assert "run  pip install 'tensorrt>=8.6,<8.7'" in out
    else:
        assert "is the last for" not in out and "for Maxwell and Pascal" not in out


@pytest.mark.parametrize(
    ("arch", "cc", "runs"),
    [
        ("sm_61", 6.1, True),
        ("sm_60", 6.1, True),  # a 1080 Ti runs sm_60 cubins (same major)
        ("sm_86", 8.9, True),  # an RTX 4090 / L40 runs sm_86 cubins
        ("sm_86", 8.0, False),  # never an older minor
        ("sm_70", 8.0, False),  # nor another major
        ("compute_70", 8.9, True),  # PTX compiles for any newer GPU
        ("compute_90", 8.9, False),
        ("sm_90a", 9.0, True),
        ("sm_90a", 10.0, False),
        ("sm_100f", 10.3, True),
        ("sm_120", 12.0, True),
        ("sm_100", 12.0, False),
    ],
)
def test_which_built_archs_run_on_a_gpu(arch, cc, runs):
    assert doctor.arch_runs_on(arch, cc) is runs


def test_a_gpu_of_a_newer_minor_than_the_build_is_supported(monkeypatch):
    """Official wheels list sm_60/70/75/80/86/90: a 1080 Ti (6.1) and an RTX 4090 (8.9) run
    them, and were called unsupported when the exact sm_XY was asked for."""
    arch_list = ["sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]
    monkeypatch.setattr(doctor.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(doctor.torch.cuda, "get_arch_list", lambda: arch_list)
    for cc in (6.1, 8.9):
        assert doctor._torch_verdict("2.6.0+cu126", cc, probe=True) == "ok"
    assert doctor._torch_verdict("2.6.0+cu126", 5.2, probe=True).startswith("unsupported")
