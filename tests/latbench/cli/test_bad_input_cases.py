"""Bad-input cases at the CLI boundary, one test each (the generated fuzz suite covers their kinds):
argument ranges, samplers, path escapes, features on meta, 0.0 samples, table values."""

from __future__ import annotations

import json
import resource

import pytest

from latbench.archs import sample_architectures
from latbench.cli import main
from latbench.errors import TableError
from latbench.opspec import OpSpec
from latbench.paths import file_in, safe_stem
from latbench.spaces import get_space
from latbench.tables import LATENCY, TableWriter, meta_path, read_table
from latbench.timing.measurement import Measurement

NOTHING = ["--match", "nothing"]  # were the option taken, no op would be measured
META = {"fingerprint": {"slug": "cpu-test-1t"}, "protocol": {}, "protocol_id": "p"}


def one_line_error(capsys, argv: list[str]) -> str:
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse: usage line + error line, exit 2
        rc = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2, err
    assert "Traceback" not in "\n".join(err)
    return err[-1]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["validate", "nasbench201:1:huge"], "unknown size 'huge'"),
        (["validate", "nasbench201:-1"], "seed -1"),
        (["validate", "nosuch-arch.json"], "nosuch-arch.json: no such file"),
        (["spaces", "nasbench20"], "unknown space 'nasbench20'"),
        (["validate", "nosuch-model.onnx", "--backend", "ort"], "nosuch-model.onnx: no such file"),
        (["profile", "nasbench201", "--budget-ms", "-5"], "--budget-ms: -5 must be > 0"),
        (["measure-nets", "nasbench201", "--budget-ms", "-5"], "--budget-ms: -5 must be > 0"),
        (["validate", "nasbench201:0", "--budget-ms", "-1"], "--budget-ms: -1 must be > 0"),
        (["search", "rtdnas", "--upper-ms", "-3"], "--upper-ms: -3 must be > 0"),
        (["search", "hypersegnas", "-n", "0"], "-n: 0 must be at least 1"),  # was "kept 0/0"
        (["search", "hypersegnas", "--target-mib", "inf"], "must be finite"),
        (["search", "ga", "--steps", "0"], "--steps: 0 must be at least 1"),
        (["predict", "p.json", "--n", "0"], "--n: 0 must be at least 1"),
        (["memory", "dints", "--predict", "--n", "0"], "--n: 0 must be at least 1"),
        (["measure-nets", "stnas-encoder"], "has no architecture sampler"),
        (["profile", "nasbench201", "--budget-ms", "nan"], "must be finite"),
        # seeds: one range, [0, 2**63), for every command (was a numpy/torch traceback)
        (["search", "ga", "--seed", "-1"], "--seed: -1 must be an integer in [0, 2**63)"),
        (["search", "cakes", "--seed", str(2**64)], "must be an integer in [0, 2**63)"),
        (["profile", "nasbench201", "--sample", "1", "--seed", "-3"], "--seed: -3 must be"),
        (["predict", "p.json", "--seed", str(2**63)], "--seed: 9223372036854775808 must be"),
        # every numeric option has a range (were tracebacks, or taken as they came)
        (["search", "rtdnas", "--threads", "0"], "--threads: 0 must be at least 1"),
        (["search", "hypersegnas", "--jobs", "-1"], "--jobs: -1 must be at least 1"),
        (["search", "hypersegnas", "--confirm", "-1"], "--confirm: -1 must be >= 0"),
        (["search", "ga", "--n-paths", "0"], "--n-paths: 0 must be at least 1"),
        (["profile", "nasbench201", "--sample", "0"], "--sample: 0 must be at least 1"),
        (
            ["profile", "nasbench201", "--ray", "--ray-cpus", "-1", *NOTHING],
            "--ray-cpus: -1 must be at",
        ),
        (
            ["profile", "nasbench201", "--lock-timeout", "nan", *NOTHING],
            "--lock-timeout: 'nan' must be",
        ),
        (
            ["profile", "nasbench201", "--item-timeout", "-5", *NOTHING],
            "--item-timeout: -5 must be >= 0",
        ),
        (["show", "t.csv", "--limit", "-3"], "--limit: -3 must be >= 0"),
        (["doctor", "--cc", "nan"], "--cc: 'nan' must be finite"),
        (["validate", "stnas-decoder:0", "--n-frames", "0"], "--n-frames: 0 must be at least 1"),
    ],
)
def test_argument_ranges_are_one_line(capsys, argv, needle):
    assert needle in one_line_error(capsys, argv)


def test_predict_key_with_impossible_parameters(capsys, tmp_path):
    key = OpSpec.make("conv", (1, 8, 8, 8)).key
    for name, old, bad in (
        ("out", "null", "0"),
        ("kernel", "3", "-5"),
        ("stride", "1", "0"),
        ("groups", "1", "0"),
        ("kernel", "3", "0"),
        ("dilation", "1", "0"),
        ("out", "null", "2.5"),
    ):
        bad_key = key.replace(f"{name}={old}", f"{name}={bad}")
        err = one_line_error(capsys, ["predict", str(tmp_path / "absent.json"), "--key", bad_key])
        assert "absent.json" in err  # the predictor file is checked first
        with pytest.raises(Exception, match=f"{name}={bad}; expected an integer"):
            OpSpec.from_key(bad_key)


def test_names_from_files_never_leave_the_output_folder(tmp_path):
    out = tmp_path / "vout"
    for name in ("../../../../outside/ESCAPED", "/etc/passwd", "..", "a/../../b", "", "\0x"):
        path = file_in(out, name, ".onnx", "nasbench201")
        assert path.parent == out and path.name.endswith(".onnx")
        assert path.resolve().is_relative_to(out.resolve())
    assert safe_stem("../../x") == "_.._x".lstrip(".") or ".." not in safe_stem("../../x")


@pytest.mark.slow
def test_validate_writes_only_under_out(tmp_path, capsys):
    arch = sample_architectures("nasbench201", 1, "small", 0)[0]
    doc = json.loads(arch.to_json())
    doc["name"] = "../../../../outside/ESCAPED"
    work = tmp_path / "a" / "b" / "c" / "d"
    work.mkdir(parents=True)
    (work / "a.json").write_text(json.dumps(doc))
    out = work / "vout"
    main(
        [
            "validate",
            str(work / "a.json"),
            "--backend",
            "torch",
            "--threads",
            "1",
            "--measure-ms",
            "30",
            "--out",
            str(out),
        ]
    )
    written = {p for p in tmp_path.rglob("*") if p.is_file()} - {work / "a.json"}
    assert written and all(p.is_relative_to(out) for p in written), written
    assert not (tmp_path / "outside").exists()


def test_features_are_computed_on_meta_without_cpu_memory():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for out in (2 * 10**7, 10**9):
        f = OpSpec.make("conv", (1, 64, 32, 32), out=out).features()
        assert f["params"] == 64 * 9 * out
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 300, f"computing features allocated {grown_mib:.0f} MiB"


def test_a_zero_sample_is_floored_at_the_timer_resolution_with_a_warning():
    m = Measurement((0.0, 0.0, 0.0), 1, "cuda-event")
    assert m.stats()["latency_min_ms"] == pytest.approx(5e-4)
    assert "floored" in m.stats()["warnings"]


def _table(tmp_path, **changes):
    spec = get_space("nasbench201").ops("small")[0]
    row = {
        "key": spec.key,
        "kind": spec.kind,
        "mode": spec.mode,
        "status": "ok",
        "source": "measured",
        "protocol_id": "p",
        "latency_median_ms": 1.0,
        "latency_min_ms": 0.5,
        **changes,
    }
    path = tmp_path / "t.csv"
    TableWriter(path, LATENCY, META).append(row)
    return path


@pytest.mark.parametrize(
    "changes, needle",
    [
        (dict(latency_median_ms=0), "field 'latency_median_ms': 0.0; expected a latency > 0"),
        (dict(latency_min_ms=-1), "field 'latency_min_ms': '-1'; expected a finite number"),
        (dict(latency_min_ms="-inf"), "field 'latency_min_ms'"),
        (dict(latency_median_ms="inf"), "field 'latency_median_ms'"),
        (dict(latency_median_ms=1e308), "field 'latency_median_ms'"),
        (dict(status="maybe"), "field 'status': 'maybe'; expected one of ok"),
        (dict(mode="train"), "field 'mode': 'train' contradicts the key"),
        (dict(key="conv|out=0|1x2x4x4|float32|infer"), "field 'key'"),
    ],
)
def test_bad_table_values_name_line_and_field(tmp_path, changes, needle):
    path = _table(tmp_path, **changes)
    with pytest.raises(TableError, match="t.csv: line 2") as err:
        read_table(path)
    assert needle in str(err.value)


def test_side_car_fingerprint_must_be_an_object(tmp_path, capsys):
    path = _table(tmp_path)
    meta = json.loads(meta_path(path).read_text())
    meta["fingerprint"] = "cpu"
    meta_path(path).write_text(json.dumps(meta))
    for argv in (["show", str(path)], ["fit", str(path), "-o", str(tmp_path / "p.json")]):
        err = one_line_error(capsys, argv)
        assert "field 'fingerprint' is a str; expected a JSON object" in err
