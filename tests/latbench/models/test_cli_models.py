"""`--model` through the commands: profile -> measure-nets -> fit -> predict / evaluate, and
validate (the model and its ONNX file); untraceable code is one error line naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from latbench.cli import main
from latbench.netprofile import read_networks
from latbench.tables import read_table

FAST = ["--budget-ms", "3", "--warmup-ms", "1", "--rounds", "2", "--threads", "1"]


def _error_line(capsys: pytest.CaptureFixture) -> str:
    err = [
        line
        for line in capsys.readouterr().err.strip().splitlines()
        if not line.startswith("latbench: warning")
    ]
    assert len(err) == 1, err
    return err[0]


def _models(model_file: str, *names: str) -> list[str]:
    return [arg for name in names for arg in ("--model", f"{model_file}:{name}")]


@pytest.mark.slow
def test_profile_measure_fit_predict_evaluate(
    model_file: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ops, nets, pred = tmp_path / "ops.csv", tmp_path / "nets.csv", tmp_path / "P.json"
    shape = ["--input-shape", "1,3,16,16"]
    assert main(["profile", *_models(model_file, "net"), *shape, "--table", str(ops), *FAST]) == 0
    first = len(read_table(ops))
    assert first >= 10
    capsys.readouterr()
    assert (
        main(
            [
                "profile",
                *_models(model_file, "net", "wide", "wider"),
                *shape,
                "--table",
                str(ops),
                *FAST,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.replace("\n", " ")
    assert f"already in table {first}" in out  # the shared ops are not measured again
    assert (
        main(
            [
                "measure-nets",
                *_models(model_file, "net", "wide", "wider"),
                *shape,
                "--table",
                str(nets),
                "--repeat",
                "2",
                *FAST,
            ]
        )
        == 0
    )
    rows = read_networks(nets)
    assert len(rows) == 6 and set(rows["input_shape"]) == {"1x3x16x16"}
    assert rows["name"].str.endswith(":wide").sum() == 2
    assert main(["fit", str(ops), "--networks", str(nets), "-o", str(pred)]) == 0
    capsys.readouterr()
    assert main(["predict", str(pred), *_models(model_file, "wide"), *shape]) == 0
    out = capsys.readouterr().out.replace("\n", "")
    assert f"{model_file}:wide@1x3x16x16" in out.replace(" ", "") or "wide@1x3x16x16" in out
    assert str(ops) in out.replace(" ", "") and "predicted (ms)" in out
    assert main(["evaluate", str(pred), str(nets)]) == 0


@pytest.mark.slow
def test_validate_a_model_then_its_onnx_file(model_file: str, tmp_path: Path) -> None:
    out = tmp_path / "v"
    assert (
        main(
            [
                "validate",
                f"{model_file}:net",
                "--input-shape",
                "1,3,16,16",
                "--backend",
                "torch,ort",
                "--measure-ms",
                "30",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    (onnx,) = out.glob("*.onnx")
    (model_report,) = out.glob("*.report.json")
    assert "torch" in model_report.read_text()
    # the ONNX file's report goes beside the model's (same --out) without replacing it
    assert (
        main(["validate", str(onnx), "--backend", "ort", "--measure-ms", "30", "--out", str(out)])
        == 0
    )
    assert "torch" in model_report.read_text()
    assert (out / f"{onnx.name}.report.json").is_file()


def test_onnx_file_refuses_the_torch_backend(
    model_file: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    missing = tmp_path / "m.onnx"
    missing.write_bytes(b"not onnx")
    assert main(["validate", str(missing), "--backend", "torch"]) == 2
    assert "need the PyTorch model" in _error_line(capsys)


def test_untraceable_model_is_one_line_naming_the_module(
    model_file: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = [
        "profile",
        *_models(model_file, "gated"),
        "--input-shape",
        "1,3,8,8",
        "--table",
        str(tmp_path / "t.csv"),
        *FAST,
    ]
    assert main(args) == 2
    line = _error_line(capsys)
    assert "module gate (Gate)" in line and "--leaf" in line


@pytest.mark.parametrize("leaf", ["Gat", "Net", "mynet.Gate"])
def test_a_leaf_that_names_no_submodule_class_is_one_line(
    model_file: str, tmp_path: Path, capsys: pytest.CaptureFixture, leaf: str
) -> None:
    """A typo, the model's own class or a wrong qualified name: --leaf was ignored silently
    and the model traced as if it had not been given. A class of one of several models is
    fine (``--leaf Gate`` beside ``net``, which has none)."""
    table = tmp_path / "t.csv"
    args = ["profile", *_models(model_file, "net", "gated"), "--input-shape", "1,3,8,8"]
    args += ["--table", str(table), *FAST, "--sample", "1"]
    assert main([*args, "--leaf", leaf, "--leaf", "Gate"]) == 2
    line = _error_line(capsys)
    assert (
        line.startswith(f"latbench: error: --leaf {leaf}: no submodule of") and "Gate," not in line
    )
    assert not table.exists()
    assert main([*args, "--leaf", "Gate"]) == 0


PREDICTOR = (
    Path(__file__).parents[3] / "device_profiles/cpu-amd-epyc-1t/nasbench201-paper.predictor.json"
)


@pytest.mark.parametrize(
    "command",
    [
        ["profile", "nasbench201", "--input-shape", "1,3,8,8"],
        ["measure-nets", "nasbench201", "--n", "1", "--leaf", "Block"],
        ["predict", str(PREDICTOR), "--space", "nasbench201", "--n", "1", "--input-shape", "1,3,8"],
        ["validate", "nasbench201:0", "--input-shape", "1,3,8,8"],
        ["memory", "dints", "--n", "1", "--leaf", "Block"],
        ["validate", "m.onnx", "--leaf", "Block"],
    ],
)
def test_model_options_without_a_model_are_one_line(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    """--input-shape and --leaf shape and split a --model; on a space they were ignored and
    the space measured (or predicted) at its own shapes as if they had been applied."""
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--out", str(tmp_path)] if command[0] != "predict" else command) == 2
    line = _error_line(capsys)
    assert "--model SPEC" in line or "ONNX file runs whole" in line, line
    assert not any(tmp_path.rglob("*.csv"))


def test_a_model_whose_forward_hangs_is_stopped_by_the_item_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Tracing runs the forward in this process, before any worker: a deadlock there is
    bounded by --item-timeout too, one line naming the line it hangs on, nothing written."""
    model = tmp_path / "deadlock.py"
    model.write_text(
        "import threading, torch\n"
        "LOCK = threading.Lock()\n"
        "class Net(torch.nn.Module):\n"
        "    def forward(self, x):\n"
        "        with LOCK:\n"
        "            LOCK.acquire()\n"
        "        return x\n"
        "def make():\n"
        "    return Net()\n"
    )
    table = tmp_path / "out" / "t.csv"
    args = ["--model", f"{model}:make", "--input-shape", "1,3,8,8", "--item-timeout", "1"]
    assert main(["profile", *args, "--table", str(table), *FAST]) == 2
    line = _error_line(capsys)
    assert "still loading or tracing after 1 s" in line and f"{model}:6" in line, line
    assert not table.parent.exists()


def test_validate_a_model_whose_forward_raises_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A forward that raises on any input failed as 'does not trace with torch.fx ... make
    that module one op with --leaf': the model's own error, and where, is the line."""
    model = tmp_path / "raises.py"
    model.write_text(
        "import torch\n"
        "class Net(torch.nn.Module):\n"
        "    def forward(self, x):\n"
        "        raise ValueError('weights not loaded')\n"
        "def make():\n"
        "    return Net()\n"
    )
    args = ["validate", f"{model}:make", "--input-shape", "1,3,8,8", "--backend", "torch"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    line = _error_line(capsys)
    assert "fails when run on a 1x3x8x8 input" in line and "raises.py:4" in line, line
    assert "ValueError: weights not loaded" in line and "--leaf" not in line


@pytest.mark.slow
def test_a_leaf_block_of_a_file_model_is_measured_in_the_worker(
    model_file: str, tmp_path: Path
) -> None:
    """The measuring worker rebuilds the ``--leaf`` block from the user's file: it trusts
    what its parent loaded on purpose."""
    table = tmp_path / "t.csv"
    args = [*_models(model_file, "gated"), "--leaf", "Gate", "--input-shape", "1,3,8,8"]
    command = [sys.executable, "-m", "latbench", "profile", *args, "--table", str(table), *FAST]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = read_table(table)
    assert rows["key"].str.startswith("submodule|").sum() == 1
    assert set(rows["status"]) == {"ok"}, rows[["key", "error"]].to_string()


NOISY = """import multiprocessing, warnings
from torch import nn

def noisy():
    warnings.warn("the default init will change", FutureWarning)
    if multiprocessing.current_process().name == "latbench-worker":
        warnings.warn("built in the worker")
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
"""


@pytest.mark.slow
def test_the_measuring_workers_warnings_are_one_line_each_and_not_repeated(
    tmp_path: Path,
) -> None:
    """A model's warning when this process traces it and again when the worker builds it is
    shown once; one the worker alone gives comes back to this process. Each is one line."""
    (tmp_path / "noisy.py").write_text(NOISY)
    args = ["--model", f"{tmp_path / 'noisy.py'}:noisy", "--input-shape", "1,3,8,8", *FAST]
    command = [sys.executable, "-m", "latbench", "measure-nets", *args]
    done = subprocess.run(
        [*command, "--table", str(tmp_path / "t.csv")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    err = done.stderr.splitlines()
    (init,) = [line for line in err if "the default init will change" in line]
    assert init.endswith("noisy.py:5: FutureWarning: the default init will change")
    (worker,) = [line for line in err if "built in the worker" in line]
    assert worker.endswith("noisy.py:7: UserWarning: built in the worker")
    assert "warnings.warn(" not in done.stderr  # no source line under a warning


def test_profile_prints_what_failed_and_why(
    model_file: str, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import latbench.profile

    real = latbench.profile.op_callable

    def failing_softmax(spec, device):  # noqa: ANN001, ANN202
        if "softmax" in spec.key:
            raise RuntimeError("no kernel for this op\nsecond line")
        return real(spec, device)

    monkeypatch.setattr(latbench.profile, "op_callable", failing_softmax)
    args = [*_models(model_file, "net"), "--input-shape", "1,3,8,8", *FAST]
    assert main(["profile", *args, "--table", str(tmp_path / "t.csv")]) == 0
    out = capsys.readouterr().out
    assert "failed 1 (recorded with their error)" in out.replace("\n", " ")
    (line,) = [x for x in out.splitlines() if "no kernel for this op" in x]
    assert line.strip().startswith("error:") and "softmax" in line and "second line" not in out


def test_space_or_model_is_required(capsys: pytest.CaptureFixture) -> None:
    assert main(["measure-nets"]) == 2
    assert "SPACE or --model" in _error_line(capsys)


@pytest.mark.slow
def test_timm_resnet18_done_when_commands(
    needs_timm: None, model_file: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """timm:resnet18 at 1x3x64x64, tiny budgets: profile (then two file models into the same op
    table), measure-nets, fit, predict, and validate the model and then its exported .onnx."""
    model, shape = ["--model", "timm:resnet18"], ["--input-shape", "1,3,64,64"]
    home = ["--out", str(tmp_path / "tables")]
    assert main(["profile", *model, *shape, *home, *FAST]) == 0
    ops = next((tmp_path / "tables").glob("*/models.csv"))
    assert len(read_table(ops)) == 33
    assert main(["profile", *_models(model_file, "net", "wide"), *shape, *home, *FAST]) == 0
    assert (
        main(["measure-nets", *model, *_models(model_file, "net", "wide"), *shape, *home, *FAST])
        == 0
    )
    nets = next((tmp_path / "tables").glob("*/models.networks.csv"))
    assert "timm:resnet18" in set(read_networks(nets)["name"])
    pred = tmp_path / "P.json"
    assert main(["fit", str(ops), "--networks", str(nets), "-o", str(pred)]) == 0
    capsys.readouterr()
    assert main(["predict", str(pred), *model, *shape]) == 0
    out = capsys.readouterr().out
    assert "timm:resnet18@1x3x64x64" in out and "models.csv" in out.replace("\n", "")
    v = tmp_path / "v"
    assert (
        main(
            [
                "validate",
                "timm:resnet18",
                *shape,
                "--backend",
                "torch,ort",
                "--measure-ms",
                "50",
                "--out",
                str(v),
            ]
        )
        == 0
    )
    (onnx,) = v.glob("*.onnx")
    assert (
        main(
            [
                "validate",
                str(onnx),
                "--backend",
                "ort",
                "--measure-ms",
                "50",
                "--out",
                str(tmp_path / "v2"),
            ]
        )
        == 0
    )


@pytest.mark.slow
def test_memory_predicts_a_model(model_file: str, capsys: pytest.CaptureFixture) -> None:
    assert (
        main(["memory", "--model", f"{model_file}:net", "--input-shape", "2,3,8,8", "--predict"])
        == 0
    )
    out = capsys.readouterr().out
    assert "predicted training memory" in out
    assert "mynet.py:net@2x3x8x8" in "".join(out.replace("│", " ").split())  # not an arch_id
