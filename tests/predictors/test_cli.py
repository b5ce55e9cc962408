import json
from pathlib import Path

import numpy as np
import pytest

from latbench.cli import main
from latbench.netprofile import NETWORKS, arch_columns
from latbench.tables import LATENCY, TableWriter

META = {"fingerprint": {"slug": "cpu-test-1t"}, "protocol": {}, "protocol_id": "p"}


def write_ops(synth, path, ops):
    w = TableWriter(path, LATENCY, META)
    for s in ops:
        w.append(
            {
                "key": s.key,
                "kind": s.kind,
                "status": "ok",
                "source": "measured",
                "protocol_id": "p",
                "latency_median_ms": synth.true_ms(s),
                "latency_min_ms": synth.true_ms(s),
            }
        )
    return path


def write_nets(synth, path, archs, noise=0.0, drift=None, meta=META):
    """Both passes of ``archs``; with ``drift(i)``, network i's rows in both passes read that
    drift (as passes interleaved in the same rounds do) and pass r runs (1 + 0.01 r) slower."""
    w = TableWriter(path, NETWORKS, meta)
    rng = np.random.default_rng(0)
    for repeat in (1, 2):
        for i, a in enumerate(archs):
            slower = 1 + (0.01 * repeat if drift else noise * rng.standard_normal())
            ms = synth.network_ms(a) * slower
            row = {"latency_median_ms": ms, "latency_min_ms": ms}
            if drift is not None:
                d = drift(i)
                row |= {
                    "reference_ms": 3.0 * d,
                    "drift": d,
                    "latency_min_corrected_ms": ms / d,
                    "latency_median_corrected_ms": ms / d,
                }
            w.append(
                {
                    **arch_columns(a, "small"),
                    "repeat": repeat,
                    "status": "ok",
                    "source": "measured",
                    "protocol_id": "p",
                    **row,
                }
            )
    return path


@pytest.fixture(scope="module")
def tables(synth, tmp_path_factory, nb201_ops, nb201_archs):
    d = tmp_path_factory.mktemp("tables")
    return {
        "ops": write_ops(synth, d / "ops.csv", nb201_ops),
        "train": write_nets(synth, d / "train.networks.csv", nb201_archs[:15]),
        "test": write_nets(synth, d / "test.networks.csv", nb201_archs[15:], noise=0.01),
    }


@pytest.mark.slow
def test_fit_evaluate_predict_round_trip(tables, tmp_path, capsys):
    model = tmp_path / "net.json"
    assert (
        main(["fit", str(tables["ops"]), "--networks", str(tables["train"]), "-o", str(model)]) == 0
    )
    assert json.loads(model.read_text())["device"] == "cpu-test-1t"
    plot, metrics = tmp_path / "ev.png", tmp_path / "ev.json"
    assert (
        main(
            [
                "evaluate",
                str(model),
                str(tables["test"]),
                "--plot",
                str(plot),
                "--json",
                str(metrics),
            ]
        )
        == 0
    )
    report = json.loads(metrics.read_text())
    assert report["NetworkPredictor"]["within_10pct"] == 1.0  # the truth is exactly affine
    assert "noise floor (repeat 2 vs 1)" in report
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = tmp_path / "pred.csv"
    assert (
        main(
            [
                "predict",
                str(model),
                "--space",
                "nasbench201",
                "--size",
                "small",
                "--n",
                "3",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    lines = out.read_text().splitlines()
    assert len(lines) == 4 and lines[1].endswith(f",estimated,{model}")


def test_fit_transfer_and_op_predictor_paths(tables, tmp_path):
    base, mapped, ops = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "ops.json"
    main(["fit", str(tables["ops"]), "--networks", str(tables["train"]), "-o", str(base)])
    assert (
        main(
            [
                "fit",
                "--transfer-from",
                str(base),
                "--networks",
                str(tables["test"]),
                "--shots",
                "10",
                "-o",
                str(mapped),
            ]
        )
        == 0
    )
    assert json.loads(mapped.read_text())["class"] == "TransferPredictor"
    assert main(["fit", str(tables["ops"]), "--kind", "learned", "-o", str(ops)]) == 0
    assert main(["predict", str(ops), "--space", "nasbench201", "--size", "small"]) == 0


def test_predict_with_a_lookup_says_its_coverage(tables, tmp_path, capsys):
    lut = tmp_path / "lut.json"
    assert main(["fit", str(tables["ops"]), "-o", str(lut)]) == 0
    capsys.readouterr()
    assert main(["predict", str(lut), "--space", "nasbench201", "--size", "small"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "coverage {'hits': " in out and "'fallback': 0}" in out
    # --n asks for sampled networks, which an op predictor does not predict: refused, not ignored
    assert main(["predict", str(lut), "--space", "nasbench201", "--n", "5"]) == 2
    assert "--n asks for networks, but" in capsys.readouterr().err
    # so do --networks (was ignored: the space's ops printed), and --key a network predictor's
    assert main(["predict", str(lut), "--networks", str(tables["test"])]) == 2
    assert "--networks asks for networks, but" in capsys.readouterr().err
    net = tmp_path / "net.json"
    assert (
        main(["fit", str(tables["ops"]), "--networks", str(tables["train"]), "-o", str(net)]) == 0
    )
    key = ["--key", "conv||1x8x8x8|float32|infer", "--networks", str(tables["test"])]
    assert main(["predict", str(net), *key]) == 2
    assert "--key prices an op, but" in capsys.readouterr().err


def test_fit_refuses_networks_of_another_device_than_its_ops(
    synth, nb201_archs, tables, tmp_path, capsys
):
    """An op table calibrated on another device's networks was saved as a predictor of the op
    table's device (a CPU op table + a Titan X column: 'fitted on device cpu-...')."""
    other = {**META, "fingerprint": {"slug": "titanx_1"}}
    nets = write_nets(synth, tmp_path / "gpu.networks.csv", nb201_archs[:15], meta=other)
    out = tmp_path / "p.json"
    assert main(["fit", str(tables["ops"]), "--networks", str(nets), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'titanx_1'" in err[0] and "'cpu-test-1t'" in err[0], err
    assert "--transfer-from" in err[0] and not out.exists()


def test_cli_errors_are_one_line_latbench_errors(tables, tmp_path, capsys):
    ops = tmp_path / "ops.json"
    main(["fit", str(tables["ops"]), "-o", str(ops)])
    assert main(["evaluate", str(ops), str(tables["test"])]) == 2
    assert "is a LookupPredictor, which predicts ops" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text(ops.read_text()[:100])
    assert main(["predict", str(broken), "--space", "nasbench201"]) == 2
    assert "truncated" in capsys.readouterr().err
    assert main(["fit", "-o", str(tmp_path / "x.json")]) == 2


@pytest.mark.slow
def test_evaluate_compares_the_statistic_the_predictor_was_fitted_on(
    synth, tables, tmp_path, nb201_archs
):
    """Medians here are the truth times a random 1-1.5 (a busy machine), minimums the truth."""
    rng = np.random.default_rng(1)
    busy = TableWriter(tmp_path / "busy.networks.csv", NETWORKS, META)
    for repeat in (1, 2):
        for a in nb201_archs[15:]:
            ms = synth.network_ms(a)
            busy.append(
                {
                    **arch_columns(a, "small"),
                    "repeat": repeat,
                    "status": "ok",
                    "source": "measured",
                    "protocol_id": "p",
                    "latency_min_ms": ms,
                    "latency_median_ms": ms * (1 + 0.5 * rng.random()),
                }
            )
    model, by_min, by_median = tmp_path / "m.json", tmp_path / "a.json", tmp_path / "b.json"
    main(
        [
            "fit",
            str(tables["ops"]),
            "--networks",
            str(tables["train"]),
            "--stat",
            "min",
            "-o",
            str(model),
        ]
    )
    assert json.loads(model.read_text())["statistic"] == "latency_min_ms"
    assert main(["evaluate", str(model), str(busy.path), "--json", str(by_min)]) == 0
    assert (
        main(["evaluate", str(model), str(busy.path), "--stat", "median", "--json", str(by_median)])
        == 0
    )
    assert json.loads(by_min.read_text())["NetworkPredictor"]["within_10pct"] == 1.0
    beside = sorted(p.name for p in busy.path.parent.iterdir())  # no --plot: no PNG written
    assert not [n for n in beside if n.endswith(".png")], beside
    assert json.loads(by_median.read_text())["NetworkPredictor"]["within_10pct"] < 0.5


def test_predict_defaults_to_the_size_the_predictor_was_fitted_on(tables, tmp_path, capsys):
    """A predictor fitted on small networks predicts small networks unless told otherwise,
    and a --size it was not fitted on gets a one-line note."""
    model = tmp_path / "net.json"
    assert (
        main(["fit", str(tables["ops"]), "--networks", str(tables["train"]), "-o", str(model)]) == 0
    )
    assert json.loads(model.read_text())["sizes"] == {"nasbench201": ["small"]}
    default, small = tmp_path / "default.csv", tmp_path / "small.csv"
    capsys.readouterr()
    assert (
        main(["predict", str(model), "--space", "nasbench201", "--n", "2", "--out", str(default)])
        == 0
    )
    assert "note:" not in capsys.readouterr().out
    assert (
        main(
            [
                "predict",
                str(model),
                "--space",
                "nasbench201",
                "--size",
                "small",
                "--n",
                "2",
                "--out",
                str(small),
            ]
        )
        == 0
    )
    assert default.read_text() == small.read_text()
    capsys.readouterr()
    assert (
        main(["predict", str(model), "--space", "nasbench201", "--size", "paper", "--n", "1"]) == 0
    )
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "note: " in out
        and ("was fitted on nasbench201 at size small; predicting size paper") in out
    )


def test_choose_size_notes():
    from latbench.cli.predict import choose_size

    fitted = {"nasbench201": ["small"]}
    assert choose_size("nasbench201", None, fitted, "p.json") == ("small", "")
    assert choose_size("nasbench201", "small", fitted, "p.json") == ("small", "")
    assert (
        "fitted on nasbench201 at size small"
        in choose_size("nasbench201", "paper", fitted, "p.json")[1]
    )
    assert "not on msnas" in choose_size("msnas", None, fitted, "p.json")[1]
    size, note = choose_size("nasbench201", None, {}, "old.json")
    assert size == "paper" and "does not record the size" in note
    # a spec-sheet estimate was fitted on no table: no note calling it old
    assert choose_size("nasbench201", None, {}, "v100.json", from_spec_sheet=True)[1] == ""


def test_a_spec_sheet_interval_does_not_claim_shots():
    from latbench.cli.predict import interval_note
    from latbench.predictors.gpu_specs import SpecSheetPredictor

    note = interval_note(SpecSheetPredictor("V100").fit())
    assert "0 shots" not in note and "no measurement of this GPU" in note


def test_a_transfer_interval_note_gives_its_coverage_and_its_confidence():
    """The interval covers `coverage` of networks in CONFIDENCE (97.5 %) of fits; the note said
    'meant to hold in 90 % of fits'."""
    from types import SimpleNamespace

    from latbench.cli.predict import interval_note

    note = interval_note(SimpleNamespace(n_shots_=10, coverage=0.9))
    assert "10 shots" in note and "cover 90 % of networks in 97.5 % of fits" in note


def test_fit_prints_its_in_sample_shares_as_evaluate_does(tables, tmp_path, capsys):
    """One format for accuracy tables: fit's in-sample row is evaluate's (metric_rows: shares
    within ±5/±10 % as percentages), not raw fractions."""
    from latbench.predictors.report import metric_rows

    model = tmp_path / "net.json"
    assert (
        main(["fit", str(tables["ops"]), "--networks", str(tables["train"]), "-o", str(model)]) == 0
    )
    fitted = " ".join(capsys.readouterr().out.split())
    metrics = json.loads(model.read_text())["fit_metrics"]
    row = metric_rows({"NetworkPredictor": metrics})[0]
    assert row[3] == f"{100 * metrics['within_5pct']:.1f}%" and row[4] == "100.0%"
    assert f"│ {row[3]} │ {row[4]} │" in fitted  # the truth is exactly affine: all within 10 %


def test_evaluate_on_the_calibration_table_says_the_scores_are_in_sample(tables, tmp_path, capsys):
    model = tmp_path / "net.json"
    assert (
        main(["fit", str(tables["ops"]), "--networks", str(tables["train"]), "-o", str(model)]) == 0
    )
    capsys.readouterr()
    assert main(["evaluate", str(model), str(tables["train"])]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "was calibrated on: these scores are in-sample, not held out" in out
    assert main(["evaluate", str(model), str(tables["test"])]) == 0
    assert "in-sample" not in capsys.readouterr().out


def test_a_memory_predictor_is_not_scored_or_shown_as_latency(tables, tmp_path, capsys):
    """evaluate printed MAPE of MiB against ms; validate showed MiB as 'predicted ms'."""
    memory = Path(__file__).parents[2] / "device_profiles/cpu-amd-epyc-1t/memory-dints-small.csv"
    mem, out = tmp_path / "mem.json", tmp_path / "v"
    assert main(["fit", "--kind", "memory", str(memory), "-o", str(mem)]) == 0
    capsys.readouterr()
    for argv in (
        ["evaluate", str(mem), str(tables["test"])],
        ["validate", "nasbench201:0:small", "--predictor", str(mem), "--out", str(out)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            f"latbench: error: {mem}: is a TrainingMemoryPredictor, which predicts networks in "
            "MiB; this command needs a network latency predictor (`latbench fit OPS --networks "
            "NETS`, or a transfer predictor `latbench fit --transfer-from`)"
        ]
    assert not out.exists()


def test_a_table_with_nothing_to_use_is_named(tables, nb201_archs, tmp_path, capsys):
    """All rows failed, or no value of the statistic: the error named no file."""
    net = tmp_path / "net.json"
    assert (
        main(["fit", str(tables["ops"]), "--networks", str(tables["train"]), "-o", str(net)]) == 0
    )
    failed = TableWriter(tmp_path / "failed.networks.csv", NETWORKS, META)
    arch = {**arch_columns(nb201_archs[0], "small"), "repeat": 1, "protocol_id": "p"}
    failed.append({**arch, "status": "error", "error": "x", "source": "measured"})
    capsys.readouterr()
    for argv, needle in (
        (["evaluate", str(net), str(failed.path)], f"{failed.path}: no ok rows of repeat 1"),
        (["predict", str(net), "--networks", str(failed.path)], f"{failed.path}: no ok rows"),
        (
            ["evaluate", str(net), str(tables["test"]), "--stat", "median-corrected"],
            f"{tables['test']}: column 'latency_median_corrected_ms' is empty",
        ),
        (["fit", str(tables["ops"]), "--stat", "min-corrected", "-o", str(net)], "ops.csv: no m"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], (argv, err)


def test_evaluate_says_interleaved_passes_have_no_drift_between_them(
    synth, tables, tmp_path, nb201_archs, capsys
):
    """measure-nets --repeat 2 --rounds 20 times both passes in the same rounds, so every row
    reads one drift; evaluate printed 'the machine ran 0.0 % slower in pass 2' and a second,
    identical 'drift-corrected' floor row, as if it had measured a drift."""
    nets = write_nets(synth, tmp_path / "nets.csv", nb201_archs[15:], drift=lambda i: 1 + 0.01 * i)
    model, metrics = tmp_path / "m.json", tmp_path / "ev.json"
    assert (
        main(["fit", str(tables["ops"]), "--networks", str(tables["train"]), "-o", str(model)]) == 0
    )
    capsys.readouterr()
    argv = ["evaluate", str(model), str(nets), "--stat", "min-corrected", "--json", str(metrics)]
    assert main(argv) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "interleaved round by round" in out and "slower in pass 2" not in out
    assert "noise floor, drift-corrected" not in json.loads(metrics.read_text())
