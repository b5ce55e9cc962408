"""validate(): paper-space architectures through torch and ORT on the CPU, prediction gap,
budget verdicts, reports that round-trip, and the CLI's exit codes and install hints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deploy_gpu import QUICK

import latbench.deploy.validate as validate_module
from latbench.archs import sample_architectures
from latbench.cli import main
from latbench.cli.validate import load_network_predictor
from latbench.deploy.report import NO_PREDICTION, ValidationReport, gap_pct
from latbench.deploy.validate import OUTPUT_TOL, ValidateOptions, resolve_architecture, validate
from latbench.errors import LatbenchError, MissingDependencyError
from latbench.spaces.registry import spaces_with_architectures

# Two paper spaces (fast at their small size on a CPU) and the NAS-Bench-201 cell network.
SPACES = ("msnas", "stnas-decoder", "nasbench201")


@pytest.mark.slow
@pytest.mark.parametrize("space", SPACES)
def test_paper_space_architecture_through_torch_and_ort(space, tmp_path):
    if space not in spaces_with_architectures():
        pytest.skip(f"no sampler for {space} in this checkout")
    arch = resolve_architecture(f"{space}:0")
    report = validate(
        arch,
        ("torch", "ort"),
        budget_ms=1e6,
        min_fps=1e-3,
        config=QUICK,
        options=ValidateOptions(out_dir=tmp_path, threads=1),
    )
    assert [b.status for b in report.backends] == ["ok", "ok"]
    for b in report.backends:
        assert b.outputs_match, f"{space} {b.backend}: outputs differ by {b.max_abs_diff}"
        assert b.latency_ms > 0 and b.fps > 0 and b.passed is True
        assert b.predicted_ms is None and b.gap_pct is None
    assert report.prediction["note"] == NO_PREDICTION
    assert report.onnx["opset"] == 17 and (tmp_path / f"{arch.name}.onnx").is_file()
    assert report.passed is True


def test_resolve_architecture_forms(tmp_path):
    a, b = resolve_architecture("nasbench201:3:small"), resolve_architecture("nasbench201:3")
    assert a.genotype == b.genotype and a.name == "nasbench201-s3-small"
    assert b.name == "nasbench201-s3-paper" and b.meta["size"] == "paper"  # the space's default
    assert resolve_architecture("msnas:0").name == "msnas-s0-small"
    path = tmp_path / "arch.json"
    path.write_text(a.to_json())
    assert resolve_architecture(str(path)).genotype == a.genotype
    with pytest.raises(LatbenchError, match="SPACE:SEED"):
        resolve_architecture("nasbench201")
    with pytest.raises(LatbenchError, match="unknown space 'nope'"):
        resolve_architecture("nope:1")


TABLE = Path(__file__).parents[3] / "device_profiles/cpu-amd-epyc-1t/nasbench201-small.csv"


@pytest.fixture
def saved_predictor(tmp_path):
    """A real NetworkPredictor (lookup over the committed NAS-Bench-201 table, summed, no
    calibration) saved as JSON, for a given statistic; returns (path, loaded model). With
    calibration "none" the networks given to fit only feed its in-sample metrics."""
    from latbench.predictors.data import op_data
    from latbench.predictors.lookup import LookupPredictor
    from latbench.predictors.network import NetworkPredictor
    from latbench.predictors.persist import load, save

    def make(statistic: str = "latency_median_ms", drift_reference: dict | None = None):
        ops = op_data(TABLE, statistic)
        lookup = LookupPredictor().fit(*ops.xy)
        archs = sample_architectures("nasbench201", 3, "small", seed=1)
        summed = [float(lookup.predict([e.op for e in a.edges]).sum()) for a in archs]
        model = NetworkPredictor(lookup, "sum", "none").fit(archs, summed)
        path = tmp_path / f"{statistic}.json"
        save(
            model,
            path,
            device=ops.device,
            tables={"ops": ops.table_sha256},
            statistic=statistic,
            drift_reference=drift_reference,
        )
        return path, load(path)

    return make


def test_gap_and_budget_failure_and_json_roundtrip(nb201, tmp_path, saved_predictor):
    path, model = saved_predictor()
    predicted = float(model.predict([nb201])[0])
    assert predicted > 0
    report = validate(
        nb201,
        ("ort",),
        budget_ms=1e-6,
        min_fps=None,
        predictor=path,
        config=QUICK,
        options=ValidateOptions(out_dir=tmp_path, threads=1),
        load_predictor=load_network_predictor,
    )
    (ort,) = report.backends
    assert ort.predicted_ms == pytest.approx(predicted)
    assert ort.gap_pct == pytest.approx(100 * (ort.latency_ms - predicted) / predicted)
    assert ort.budget["latency_ok"] is False and report.passed is False
    again = ValidationReport.from_dict(json.loads(report.to_json()))
    assert again.passed is False and again.backends[0].gap_pct == ort.gap_pct
    assert "FAIL" in report.to_markdown() and report.rows()[0][5] == f"{ort.gap_pct:+.1f}*"
    assert "gap against a torch-eager predictor" in ort.gap_note  # ORT vs a torch predictor
    assert ort.error == ""  # measurement warnings are not errors
    assert json.loads(report.to_json())["backends"][0]["warnings"] == ort.warnings


def _validated(arch, model, backend: str, out_dir):
    """The model's prediction for ``arch``, and ``validate``'s report on one backend."""
    return float(model.predict([arch])[0]), validate(
        arch,
        (backend,),
        predictor=model,
        config=QUICK,
        options=ValidateOptions(out_dir=out_dir, threads=1),
    )


def test_gap_compares_the_statistic_the_predictor_was_fitted_on(nb201, tmp_path, saved_predictor):
    path, model = saved_predictor("latency_min_ms")  # `fit --stat min`
    predicted, report = _validated(nb201, model, "ort", tmp_path)
    (ort,) = report.backends
    assert ort.gap_pct == pytest.approx(100 * (ort.stats["latency_min_ms"] - predicted) / predicted)
    assert "against the measured latency_min_ms" in report.to_markdown()
    # the table shows the statistic the gap uses, named as such, beside the verdict's median
    assert report.columns()[2:5] == ("median ms", "FPS@median", "fastest ms")
    assert report.rows()[0][4] == f"{ort.stats['latency_min_ms']:.4g}"
    assert report.rows()[0][2] == f"{ort.stats['latency_median_ms']:.4g}"


def test_a_drift_corrected_predictor_is_labelled_as_what_it_was_fitted_on(
    nb201, tmp_path, saved_predictor
):
    """`fit --stat min-corrected`: the report names that statistic, and says the gap is
    against the raw fastest sample with drift taken as 1 (validate times no drift reference)."""
    path, model = saved_predictor("latency_min_corrected_ms")
    predicted, report = _validated(nb201, model, "torch", tmp_path)
    (run,) = report.backends
    assert run.gap_pct == pytest.approx(100 * (run.stats["latency_min_ms"] - predicted) / predicted)
    doc = json.loads(report.to_json())
    assert doc["prediction"]["statistic"] == "latency_min_corrected_ms"
    assert doc["gap_statistic"] == "latency_min_ms"
    assert "fitted on latency_min_corrected_ms" in doc["gap_basis"]
    assert "drift is taken as 1" in doc["gap_basis"]
    assert "the statistic it was fitted on" not in report.to_markdown()
    assert "fitted on latency_min_corrected_ms" in report.to_markdown()
    assert "does not record its tables' nominal reference time" in doc["gap_basis"]


def _reference_times(monkeypatch, *times_ms: float) -> None:
    """The drift reference reads ``times_ms`` in turn (before the backends, after each)."""
    times = iter(times_ms)
    monkeypatch.setattr(validate_module, "drift_reference_ms", lambda threads: next(times))


def test_a_drift_corrected_predictor_is_compared_with_the_corrected_measurement(
    nb201, tmp_path, saved_predictor, monkeypatch
):
    """With its tables' nominal reference time in the file, validate times the drift reference
    and compares like with like: the measured fastest sample divided by this machine's drift."""
    from latbench.timed import REFERENCE_ID

    path, model = saved_predictor(
        "latency_min_corrected_ms", {"nominal_ms": 1.0, "reference": REFERENCE_ID}
    )
    _reference_times(monkeypatch, 1.05, 1.1)  # 5-10 % slower: a correction to trust
    predicted, report = _validated(nb201, model, "torch", tmp_path)
    (run,) = report.backends
    drift = report.prediction["drift"]  # timed before the backends
    assert drift["nominal_ms"] == 1.0 and drift["drift"] == pytest.approx(drift["reference_ms"])
    # the run's reference: the mean of the times before and after it, over the nominal 1.0 ms
    assert run.stats["drift"] == pytest.approx(run.stats["reference_ms"])
    assert run.stats["latency_min_corrected_ms"] == pytest.approx(
        run.stats["latency_min_ms"] / run.stats["drift"]
    )
    assert run.gap_pct == pytest.approx(
        100 * (run.stats["latency_min_corrected_ms"] - predicted) / predicted
    )
    doc = json.loads(report.to_json())
    assert doc["gap_statistic"] == "latency_min_corrected_ms"
    assert "the statistic it was fitted on: this machine's drift" in doc["gap_basis"]
    assert report.columns()[4] == "fastest ms ÷ drift"
    assert run.gap_statistic == "" and "(raw)" not in report.rows()[0][6]


def test_a_drift_correction_beyond_trust_is_not_shown_as_the_gap(
    nb201, tmp_path, saved_predictor, monkeypatch
):
    """quickstart on a loaded machine divided by drift 1.611 and printed a gap
    of −51.2 % where the raw fastest sample was +4.4 %. Beyond ±25 % the gap is the raw one,
    and the report says why, with the corrected value beside it."""
    from latbench.timed import REFERENCE_ID

    path, model = saved_predictor(
        "latency_min_corrected_ms", {"nominal_ms": 1.0, "reference": REFERENCE_ID}
    )
    _reference_times(monkeypatch, 1.6, 1.622)
    predicted, report = _validated(nb201, model, "torch", tmp_path)
    (run,) = report.backends
    assert run.stats["drift"] == pytest.approx(1.611)
    assert run.gap_statistic == "latency_min_ms"
    assert run.gap_pct == pytest.approx(100 * (run.stats["latency_min_ms"] - predicted) / predicted)
    corrected = 100 * (run.stats["latency_min_corrected_ms"] - predicted) / predicted
    (why,) = [w for w in run.warnings if w.startswith("gap against the raw latency_min_ms")]
    assert f"{corrected:+.1f} %)" in why and "drift 1.611" in why and "±25%" in why
    # both latencies in ms: the table's column is the corrected one, the gap uses the raw one
    assert f"latency_min_ms ({run.stats['latency_min_ms']:.4g} ms)" in why
    assert f"({run.stats['latency_min_corrected_ms']:.4g} ms, {corrected:+.1f} %)" in why
    assert report.rows()[0][6].endswith("(raw)")
    again = ValidationReport.from_dict(json.loads(report.to_json()))
    assert again.backends[0].gap_statistic == "latency_min_ms"


def test_a_reference_that_moved_during_the_run_leaves_the_raw_gap(
    nb201, tmp_path, saved_predictor, monkeypatch
):
    from latbench.timed import REFERENCE_ID

    path, model = saved_predictor(
        "latency_min_corrected_ms", {"nominal_ms": 1.0, "reference": REFERENCE_ID}
    )
    _reference_times(monkeypatch, 1.0, 1.2)  # +20 % between before and after the run
    predicted, report = _validated(nb201, model, "torch", tmp_path)
    (run,) = report.backends
    assert run.gap_statistic == "latency_min_ms"
    assert any("the drift reference moved during the run" in w for w in run.warnings)


def test_verdict_and_fps_name_the_median_they_judge(nb201, tmp_path):
    report = validate(
        nb201,
        ("torch",),
        budget_ms=1e6,
        min_fps=1e-3,
        config=QUICK,
        options=ValidateOptions(out_dir=tmp_path, threads=1),
    )
    (run,) = report.backends
    doc = json.loads(report.to_json())
    budget = doc["backends"][0]["budget"]
    assert budget["statistic"] == doc["verdict_statistic"] == "latency_median_ms"
    assert budget["latency_median_ms"] == run.stats["latency_median_ms"]
    assert budget["fps_from_latency_median_ms"] == pytest.approx(
        1000.0 / run.stats["latency_median_ms"]
    )
    assert report.verdict.startswith("PASS on the median latency (latency_median_ms <= ")
    assert any("judged on the median" in n for n in report.notes())


def test_gap_pct_sign_and_missing_prediction():
    assert gap_pct(12.0, 10.0) == pytest.approx(20.0)
    assert gap_pct(8.0, 10.0) == pytest.approx(-20.0)
    assert gap_pct(8.0, None) is None


@pytest.mark.slow
def test_missing_package_fails_fast_or_is_recorded(nb201, tmp_path, no_tensorrt):
    opts = ValidateOptions(out_dir=tmp_path, threads=1)
    with pytest.raises(MissingDependencyError, match=r"pip install 'latbench\[gpu\]'"):
        validate(nb201, ("ort", "trt"), config=QUICK, options=opts)
    skip = ValidateOptions(out_dir=tmp_path, threads=1, skip_unavailable=True)
    report = validate(nb201, ("ort", "trt"), config=QUICK, options=skip)
    assert [b.status for b in report.backends] == ["ok", "unavailable"]
    assert "tensorrt is not installed" in report.backends[1].error


@pytest.mark.slow
def test_cli_validate_json_report_and_exit_codes(tmp_path, capsys, no_tensorrt):
    out = tmp_path / "out"
    args = [
        "validate",
        "nasbench201:0:small",
        "--backend",
        "ort",
        "--threads",
        "1",
        "--measure-ms",
        "60",
        "--out",
        str(out),
    ]
    assert main(args + ["--json", "--budget-ms", "1e6"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["passed"] is True and doc["backends"][0]["info"]["engine"] == (
        "CPUExecutionProvider"
    )
    assert (out / "nasbench201-s0-small.report.json").is_file()
    assert (out / "nasbench201-s0-small.report.md").read_text().count("| ort |") == 1
    assert main(args + ["--budget-ms", "1e-6"]) == 1  # over budget: exit 1
    capsys.readouterr()
    assert main(["validate", "nasbench201:0", "--backend", "trt", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'latbench[gpu]'" in err[0]


@pytest.mark.parametrize(
    "command", [["validate", "msnas:0"], ["profile", "msnas"], ["measure-nets", "msnas"]]
)
def test_measuring_commands_default_to_one_thread(command):
    """validate times torch and ONNX Runtime like profile times ops: one thread unless asked
    (on a shared machine two threads timed msnas:0 at 411 ms median against 5.4 ms)."""
    from latbench.cli.commands import build_parser

    assert build_parser().parse_args(command).threads == 1
    if command[0] == "validate":  # 0: the libraries' own thread count
        assert build_parser().parse_args([*command, "--threads", "0"]).threads == 0


def test_a_backend_is_corrected_by_the_reference_timed_around_it(monkeypatch):
    times = iter([3.0, 3.1])
    monkeypatch.setattr(validate_module, "drift_reference_ms", lambda threads: next(times))
    probe = validate_module.DriftProbe(nominal_ms=2.0, threads=1, last_ms=2.0)
    ref_ms, notes = probe.around_run()  # 2.0 before, 3.0 after: moved +50 %
    assert ref_ms == 2.5 and probe.last_ms == 3.0
    assert len(notes) == 1 and "moved +50%" in notes[0] and "uncertain" in notes[0]
    assert probe.around_run() == (3.05, [])  # 3.0 -> 3.1: within 10 %, nothing said


def test_every_backend_of_a_report_is_timed_on_one_clock(nb201, tmp_path):
    """with --threads 1 torch was timed on the thread clock and ORT on the
    wall clock, so on a loaded machine ORT read 1.5× slower (it is ~3× faster). With one
    intra-op thread ORT computes on the calling thread: both take the thread clock, and the
    report says which."""
    report = validate(
        nb201, ("torch", "ort"), config=QUICK, options=ValidateOptions(out_dir=tmp_path, threads=1)
    )
    assert [b.info["timer"] for b in report.backends] == ["cpu-thread_time_ns"] * 2
    assert report.clocks == ["cpu-thread_time_ns"]
    assert json.loads(report.to_json())["clocks"] == ["cpu-thread_time_ns"]
    assert "- clock: cpu-thread_time_ns (every backend)" in report.to_markdown()


@pytest.mark.slow
def test_with_more_threads_every_backend_takes_the_wall_clock(nb201, tmp_path):
    many = validate(
        nb201, ("torch", "ort"), config=QUICK, options=ValidateOptions(out_dir=tmp_path, threads=2)
    )
    assert many.clocks == ["cpu-perf_counter_ns"]


def test_ort_with_one_thread_runs_on_the_calling_thread(exported_nb201):
    """What makes the thread clock valid for ORT: its CPU time is all the calling thread's."""
    import time

    from latbench.deploy.runners import make_runner

    module, inputs, ex = exported_nb201
    runner = make_runner("ort", exported=ex, inputs=inputs, threads=1)
    runner.run()
    t0, p0 = time.thread_time_ns(), time.process_time_ns()
    for _ in range(20):
        runner.run()
    thread_ns, process_ns = time.thread_time_ns() - t0, time.process_time_ns() - p0
    assert thread_ns >= 0.9 * process_ns


def test_reports_whose_backends_used_different_clocks_say_so():
    from latbench.deploy.report import BackendResult

    report = ValidationReport(
        {},
        {},
        {"note": NO_PREDICTION},
        None,
        None,
        {},
        backends=[
            BackendResult("torch", "ok", {"timer": "cuda-event"}),
            BackendResult("ort", "ok", {"timer": "cpu-perf_counter_ns"}),
        ],
    )
    assert report.clocks == ["cuda-event", "cpu-perf_counter_ns"]
    assert any(
        n.startswith("clocks differ: torch cuda-event, ort cpu-perf_counter_ns")
        and "not comparable" in n
        for n in report.notes()
    )


def test_a_prediction_that_is_no_latency_is_one_line_not_a_gap(nb201):
    """A search, validate or evaluate never prints nan or inf as a result."""
    from latbench.deploy.validate import predict_latency

    class Broken:
        def predict(self, archs):  # noqa: ANN001, ANN202
            return [float("inf")]

    with pytest.raises(LatbenchError, match="predicts inf ms"):
        predict_latency(nb201, Broken())


def test_fp32_on_an_ampere_or_newer_gpu_is_compared_at_tf32_tolerance(monkeypatch):
    """TF32 is on by default there (cuDNN in torch, TensorRT, ORT's cuDNN frontend): 1e-3 of
    the largest output would fail networks that run correctly."""
    monkeypatch.setattr(validate_module.torch.cuda, "is_available", lambda: True)
    capability = {"cc": (9, 0)}
    monkeypatch.setattr(
        validate_module.torch.cuda, "get_device_capability", lambda dev: capability["cc"]
    )
    tol = validate_module.output_tolerance
    assert tol("fp32", "cuda:0") == OUTPUT_TOL["tf32"] > OUTPUT_TOL["fp32"]
    assert tol("fp16", "cuda:0") == OUTPUT_TOL["fp16"]
    assert tol("fp32", "cpu") == OUTPUT_TOL["fp32"]
    capability["cc"] = (7, 0)  # a V100 has no TF32
    assert tol("fp32", "cuda:0") == OUTPUT_TOL["fp32"]


def test_a_prediction_beyond_the_predictors_space_or_size_is_noted(
    nb201, tmp_path, saved_predictor
):
    """`validate nasbench201:7` is the paper size (the space's default): with a predictor
    fitted on the small size it printed a prediction and no word of that, where `predict`
    says it goes beyond what the predictor was fitted on."""
    from latbench.deploy.validate import predict_latency

    path, model = saved_predictor()
    model.info_["sizes"] = {"nasbench201": ["small"]}
    assert predict_latency(nb201, model)["fit_note"] == ""
    paper = resolve_architecture("nasbench201:7")
    note = predict_latency(paper, model)["fit_note"]
    assert "fitted on nasbench201 at size small; predicting size paper goes beyond" in note
    model.info_["sizes"] = {"nasbench201": ["paper"]}
    _, report = _validated(nb201, model, "ort", tmp_path)
    line = (
        "prediction: NetworkPredictor was fitted on nasbench201 at size paper; "
        "predicting size small"
    )
    assert any(n.startswith(line) for n in report.notes()) and line in report.to_markdown()
