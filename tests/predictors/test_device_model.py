"""The few-term device model (launches, FLOPs, bytes), tolerance intervals, persisted priors
across batch sizes, and the 0 ms floor."""

import dataclasses
import json

import numpy as np
import pytest
from scipy import stats

from latbench.archs import sample_architectures
from latbench.archs.nasbench201 import build_network, parse_genotype
from latbench.cli import main
from latbench.predictors.batch import encode
from latbench.predictors.data import op_data
from latbench.predictors.device_model import launches, network_terms, op_terms
from latbench.predictors.device_prior import DevicePrior, prior_key
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.persist import load, save
from latbench.predictors.transfer import TransferPredictor
from latbench.predictors.transfer_fit import choose_shots, tolerance_factor


@pytest.fixture(scope="module")
def archs():
    unique = {a.genotype: a for a in sample_architectures("nasbench201", 120, "small", seed=5)}
    return list(unique.values())


def launch_bound(batch, per_kernel=0.05, const=1.0, per_flop=1e-9):
    """A batch-1 GPU: time follows the kernel count, barely the FLOPs."""
    T = network_terms(batch.counts(), op_terms(batch.ops))
    return T @ np.array([const, per_kernel, per_flop, 0.0])


def test_launches_count_the_kernels_an_op_dispatches(nb201_ops):
    by_kind = {}
    for op in nb201_ops:
        by_kind.setdefault(op.kind, set()).add(launches(op))
    assert by_kind["identity"] == {0.0}  # nothing runs
    assert max(by_kind["conv"]) == 3.0  # ReLU, conv, batch norm
    assert by_kind["pool"] == {1.0}


def test_the_device_model_ranks_a_launch_bound_device_the_source_cannot(synth, archs, tmp_path):
    batch = encode(archs)
    lookup = LookupPredictor().fit(*op_data(synth.op_table(batch.ops)).xy)  # compute-shaped source
    y = launch_bound(batch)
    shots = choose_shots(batch.n, 10, seed=0)
    rest = np.setdiff1d(np.arange(batch.n), shots)
    model = TransferPredictor(lookup).fit(batch.take(shots), y[shots])
    plain = TransferPredictor(lookup, "opcost", alphas=(1000.0,)).fit(batch.take(shots), y[shots])
    assert model.method_ in ("launches", "roofline", "opcost-roofline")
    pred = model.predict(batch.take(rest))
    assert np.max(np.abs(pred / y[rest] - 1)) < 0.02

    def rho(p):
        return stats.spearmanr(p, y[rest]).statistic

    assert rho(pred) > 0.99 and rho(plain.predict(batch.take(rest))) < rho(pred) - 0.05
    again = load(save(model, tmp_path / "t.json"))
    assert again.predict(batch.take(rest)).tobytes() == pred.tobytes()


def test_no_network_is_predicted_at_zero_ms(synth, archs):
    """A cell of only skip/none still runs its stem, reductions and classifier."""
    batch = encode(archs)
    lookup = LookupPredictor().fit(*op_data(synth.op_table(batch.ops)).xy)
    y = launch_bound(batch, const=0.0)
    model = TransferPredictor(lookup, "opcost").fit(batch.take(np.arange(10)), y[:10])
    empty = build_network(
        parse_genotype("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"), "small"
    )
    assert model.predict([empty])[0] >= 0.25 * y[:10].min() > 0


def test_tolerance_interval_holds_per_fit_not_only_on_average():
    rng = np.random.default_rng(0)
    held = []
    for _ in range(400):  # 400 fits of 10 shots, log errors N(0, 0.1²)
        f = tolerance_factor(np.expm1(rng.normal(0, 0.1, 10)), 0.9, 0.9)
        held.append(2 * stats.norm.cdf(f / 0.1) - 1)  # the fit's true coverage
    held = np.array(held)
    assert 0.85 < np.mean(held >= 0.9) < 0.95  # >= 90 % coverage in ~90 % of fits
    assert tolerance_factor(np.zeros(10), 0.9, 0.9) == 0.0


def _at(archs, b):
    return [build_network(parse_genotype(a.genotype), "small", batch=b) for a in archs]


def test_a_prior_mixes_batch_sizes_and_reloads(synth, archs, tmp_path):
    b1, b8 = encode(archs), encode(_at(archs, 8))
    assert not {op.key for op in b1.ops} & {op.key for op in b8.ops}
    assert {prior_key(op.key) for op in b8.ops} == {op.key for op in b1.ops}
    devices = {
        "gpu_1": (b1, launch_bound(b1)),
        "gpu_8": (b8, launch_bound(b8, per_flop=1e-8)),
        "cpu_1": (b1, launch_bound(b1, per_kernel=0.001, per_flop=5e-8)),
    }
    prior = DevicePrior.fit_devices(devices)
    assert len(prior.keys) == len(b1.ops) and prior.batches == [1, 8, 1]
    again = load(save(prior, tmp_path / "prior.json"))
    assert isinstance(again, DevicePrior) and np.array_equal(again.cov, prior.cov)
    assert again.covers([op.key for op in b8.ops])
    space_other = encode(sample_architectures("ofa-mbv3", 2, "small", seed=0))
    with pytest.raises(Exception, match="share no op"):
        DevicePrior.fit_devices(
            {"a": (b1, launch_bound(b1)), "b": (space_other, np.ones(space_other.n))}
        )


@pytest.mark.slow
def test_cli_saves_a_prior_once_reuses_it_and_shows_intervals(synth, archs, tmp_path, capsys):
    from test_transfer import _write_target  # noqa: PLC0415 (same folder)

    from latbench.tables import LATENCY, TableWriter

    w = TableWriter(
        tmp_path / "ops.csv",
        LATENCY,
        {"fingerprint": {"slug": "cpu-test-1t"}, "protocol": {}, "protocol_id": "p"},
    )
    batch = encode(archs)
    for s in batch.ops:
        w.append(
            {
                "key": s.key,
                "kind": s.kind,
                "status": "ok",
                "source": "measured",
                "protocol_id": "p",
                "latency_median_ms": synth.true_ms(s),
            }
        )
    ops = tmp_path / "ops.json"
    assert main(["fit", str(w.path), "-o", str(ops)]) == 0
    at8 = _at(archs, 8)
    tables = [
        _write_target(tmp_path / "g1.networks.csv", archs, launch_bound(batch), "gpu-a"),
        _write_target(
            tmp_path / "g8.networks.csv", at8, launch_bound(encode(at8), per_flop=1e-8), "gpu-b"
        ),
    ]
    prior = tmp_path / "prior.json"
    assert (
        main(["fit", "--kind", "prior", "--prior-from", *map(str, tables), "-o", str(prior)]) == 0
    )
    assert "(batch 8)" in capsys.readouterr().out
    assert main(["predict", str(prior), "--space", "nasbench201", "--size", "small"]) == 2
    assert "is a cross-device prior" in capsys.readouterr().err
    target = _write_target(
        tmp_path / "t.networks.csv", archs, launch_bound(batch, per_kernel=0.08), "gpu-t"
    )
    out = tmp_path / "t.json"
    assert (
        main(
            [
                "fit",
                "--transfer-from",
                str(ops),
                "--networks",
                str(target),
                "--prior-from",
                str(prior),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads(out.read_text())["state"]["prior"]["batches"] == [1, 8]
    report = tmp_path / "e.json"
    assert main(["evaluate", str(out), str(target), "--json", str(report)]) == 0
    text = " ".join(capsys.readouterr().out.split())  # the console wraps lines
    interval = json.loads(report.read_text())["interval"]
    assert interval["stated_pct"] == 90 and 0 <= interval["coverage_pct"] <= 100
    assert "covers" in text and "stated 90 %" in text
    csv = tmp_path / "p.csv"
    assert main(["predict", str(out), "--networks", str(target), "--out", str(csv)]) == 0
    header = csv.read_text().splitlines()[0].split(",")
    assert header[:4] == ["query", "predicted_ms", "low_ms", "high_ms"]
    assert (
        main(
            [
                "fit",
                "--transfer-from",
                str(ops),
                "--networks",
                str(target),
                "--prior-from",
                str(ops),
                "-o",
                str(out),
            ]
        )
        == 2
    )
    assert "not a prior" in capsys.readouterr().err
    ofa = tmp_path / "ofa.networks.csv"
    _write_ofa(ofa)
    assert (
        main(
            [
                "fit",
                "--transfer-from",
                str(ops),
                "--networks",
                str(ofa),
                "--shots",
                "3",
                "--prior-from",
                str(prior),
                "-o",
                str(out),
            ]
        )
        == 2
    )
    assert "knows none of the target's" in capsys.readouterr().err


def _write_ofa(path):
    from latbench.netprofile import NETWORKS, arch_columns
    from latbench.tables import TableWriter

    w = TableWriter(
        path, NETWORKS, {"fingerprint": {"slug": "gpu-o"}, "protocol": {}, "protocol_id": "p"}
    )
    for i, a in enumerate(sample_architectures("ofa-mbv3", 4, "small", seed=1)):
        w.append(
            {
                **arch_columns(a, "small"),
                "repeat": 1,
                "status": "ok",
                "source": "measured",
                "protocol_id": "p",
                "latency_median_ms": 1.0 + i,
                "latency_min_ms": 1.0 + i,
            }
        )


def test_the_spec_table_is_sourced_and_complete():
    from latbench.predictors.gpu_specs import find_gpu, load_specs

    wanted = (
        "V100",
        "P100",
        "GTX 1080 Ti",
        "Titan X (Pascal)",
        "Titan Xp",
        "RTX 2080 Ti",
        "Titan RTX",
        "RTX 3090",
        "RTX 4090",
        "A100 40GB",
        "A100 80GB",
        "H100 SXM",
        "H100 PCIe",
    )
    specs = load_specs()
    assert set(wanted) <= set(specs)
    for s in specs.values():
        assert s.source and s.sms > 0 and s.fp32_tflops > 0 and s.memory_gbps > 0
    assert find_gpu("titan_xp").gpu == "Titan Xp" and find_gpu("a100 80gb").sms == 108
    with pytest.raises(Exception, match="'H100' names 2 cards .*: H100 SXM, H100 PCIe; give one"):
        find_gpu("H100")  # SXM5 and PCIe differ by a third in FP32 peak, 68 % in bandwidth
    with pytest.raises(Exception, match="no spec sheet for GPU 'B200'; known: V100"):
        find_gpu("B200")


def test_spec_sheet_estimates_are_labelled_and_scale_with_the_spec(archs, tmp_path, capsys):
    from latbench.predictors.gpu_specs import ESTIMATE_LABEL, SpecSheetPredictor

    v100, p100 = SpecSheetPredictor("V100", 32).fit(), SpecSheetPredictor("P100", 32).fit()
    at32 = _at(archs[:5], 32)
    fast, slow = v100.predict(at32), p100.predict(at32)
    assert np.all(fast > 0) and np.all(fast < slow)  # V100 out-computes and out-reads P100
    pred, lo, hi = v100.predict_interval(at32)
    assert np.all(lo < pred) and np.all(pred < hi)
    out = tmp_path / "v100.json"
    assert (
        main(["fit", "--target-gpu", "V100", "--shots", "0", "--batch", "32", "-o", str(out)]) == 0
    )
    doc = json.loads(out.read_text())
    assert doc["class"] == "SpecSheetPredictor" and doc["state"]["label"] == ESTIMATE_LABEL
    assert "estimate from spec sheet" in " ".join(capsys.readouterr().out.split())
    csv = tmp_path / "v.csv"
    assert (
        main(
            [
                "predict",
                str(out),
                "--space",
                "nasbench201",
                "--size",
                "small",
                "--n",
                "3",
                "--out",
                str(csv),
            ]
        )
        == 0
    )
    rows = csv.read_text().splitlines()
    assert rows[0].startswith("query,predicted_ms,low_ms,high_ms")
    assert rows[1].split(",")[-2] == ESTIMATE_LABEL
    assert "estimate from spec sheet" in " ".join(capsys.readouterr().out.split())
    assert main(["fit", "--shots", "0", "-o", str(out)]) == 2


def test_select_prefers_the_simplest_nested_method_within_one_standard_error():
    from latbench.predictors.transfer_fit import select

    y = np.ones(10)
    noise = np.random.default_rng(0).normal(0, 0.1, 10)

    def const(offset):
        return lambda train, alpha: lambda rows: y[rows] * (1 + noise[rows] + offset)

    def cands(off):
        return {"simple": (const(off), (0.0,)), "complex": (const(0.0), (0.0,))}

    nested = ("simple", "complex")
    near = select(cands(0.01), y, nested)
    assert near.method == "simple" and near.scores["complex"] < near.scores["simple"]
    assert select(cands(0.01), y).method == "complex"  # plain: the smallest LOO error
    assert select(cands(0.3), y, nested).method == "complex"
    assert select(cands(0.01), y, ("other",)).method == "complex"  # not nested: plain


def test_a_fit_that_ranks_nothing_is_not_chosen_while_another_ranks():
    from latbench.predictors.transfer_fit import select

    y = np.array([9.0, 13.1, 1.9, 3.5, 6.5, 9.0, 12.5, 8.9, 5.6, 11.5])  # pixel3, seed 7

    def flat(train, alpha):
        return lambda rows: np.full(len(rows), 3.6)  # least relative error, no ranking

    def ranking(train, alpha):
        return lambda rows: y[rows] * 1.5 + 2.0

    choice = select({"flat": (flat, (0.0,)), "ranking": (ranking, (0.0,))}, y)
    assert choice.scores["flat"] < choice.scores["ranking"] and choice.method == "ranking"
    assert select({"flat": (flat, (0.0,))}, y).method == "flat"  # the only one: kept


def test_a_spec_calibration_keeps_the_errors_an_unseen_gpu_meets():
    """The zero-shot interval is built from ``Calibration.residuals``: each GPU's errors under
    the weights fitted on the others. A pooled in-sample fit of two GPUs, one 2x slower than
    its spec sheet says, errs by about ±1/3 on each and covered 74-85 % where 90 % was stated."""
    from latbench.predictors.gpu_specs import Calibration, find_gpu

    rng = np.random.default_rng(0)
    T = rng.uniform(1.0, 5.0, size=(60, 4))
    w = np.array([0.1, 0.05, 2.0, 3.0])
    v100, p100 = find_gpu("V100"), find_gpu("P100")
    columns = [
        (v100, T, (T * v100.unit_terms()) @ w),
        (p100, T, 2.0 * (T * p100.unit_terms()) @ w),
    ]
    res = np.asarray(Calibration.fit(columns).residuals)
    assert len(res) == 120
    assert np.allclose(np.sort(res)[:60], -0.5, atol=1e-6)  # P100 from V100's weights
    assert np.allclose(np.sort(res)[60:], 1.0, atol=1e-6)  # V100 from P100's


def test_a_spec_sheet_estimate_of_fp16_ops_says_it_uses_fp32_rates(archs):
    """The calibration's columns are fp32; a spec sheet's FP16 peak is tensor cores', which
    no column measured: fp16 ops are priced at FP32 rates, and the estimate says so."""
    from latbench.predictors.gpu_specs import SpecSheetPredictor

    v100 = SpecSheetPredictor("V100").fit()
    half = [
        dataclasses.replace(
            a,
            edges=tuple(dataclasses.replace(e, op=e.op.replace(dtype="float16")) for e in a.edges),
        )
        for a in archs[:3]
    ]
    with pytest.warns(UserWarning, match="float16 ops at V100's FP32 rates"):
        v100.predict(half)


def test_a_spec_sheet_estimate_refuses_an_op_table_it_would_ignore(tmp_path, capsys):
    table = tmp_path / "ops.csv"
    table.write_text("key\n", encoding="utf-8")
    cmd = ["fit", str(table), "--target-gpu", "V100", "--shots", "0", "-o", str(tmp_path / "p")]
    assert main(cmd) == 2
    assert "measures nothing and reads no op table; leave it out" in capsys.readouterr().err
