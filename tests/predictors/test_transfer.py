"""Few-shot transfer that re-ranks: synthetic devices whose relative op costs differ."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from latbench.archs import sample_architectures
from latbench.cli import main
from latbench.deploy.validate import predict_latency
from latbench.predictors.batch import encode
from latbench.predictors.data import op_data
from latbench.predictors.device_prior import DevicePrior
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.network import NetworkPredictor
from latbench.predictors.persist import load, save
from latbench.predictors.transfer import ExtrapolationWarning, TransferPredictor, source_op_costs
from latbench.predictors.transfer_fit import choose_shots


def device(pool=1.0, conv=1.0, skip=1.0, const=0.5):
    """A synthetic device: per-op costs of the source (synth.true_ms) re-weighted by kind."""

    def cost(op, synth):
        w = {"pool": pool, "conv": conv, "identity": skip, "zero": skip}.get(op.kind, 1.0)
        return w * synth.true_ms(op)

    def network_ms(arch, synth):
        return const + sum(cost(op, synth) for op in arch.ops())

    return network_ms


@pytest.fixture(scope="module")
def archs():
    """Distinct sampled networks (a networks table keeps one row per network)."""
    unique = {a.genotype: a for a in sample_architectures("nasbench201", 120, "small", seed=11)}
    return list(unique.values())


@pytest.fixture(scope="module")
def source(synth, nb201_ops, archs):
    measured = np.array([synth.network_ms(a) for a in archs[:20]])
    return NetworkPredictor(LookupPredictor().fit(*op_data(synth.op_table(nb201_ops)).xy)).fit(
        archs[:20], measured
    )


def _target(synth, archs, **kw):
    f = device(**kw)
    return np.array([f(a, synth) for a in archs])


def test_transfer_learns_the_targets_own_op_costs_and_reranks(synth, source, archs):
    # on the target, pools cost 30x and convs 0.2x what the source says: another ranking
    y = _target(synth, archs, pool=30.0, conv=0.2)
    shots = choose_shots(len(archs), 10, seed=0)
    rest = np.setdiff1d(np.arange(len(archs)), shots)

    def pick(rows):
        return [archs[i] for i in rows]

    new = TransferPredictor(source).fit(pick(shots), y[shots])
    old = TransferPredictor(source, "loglinear").fit(pick(shots), y[shots])
    rho_new = stats.spearmanr(new.predict(pick(rest)), y[rest]).statistic
    rho_source = stats.spearmanr(source.predict(pick(rest)), y[rest]).statistic
    # the old map can only keep the source's ranking (or, clamped non-decreasing, none)
    assert new.method_.startswith("opcost") and rho_new > 0.9 and rho_new > rho_source + 0.3
    assert set(new.cv_scores_) == {
        "opcost",
        "opcost-roofline",
        "roofline",
        "launches",
        "loglinear",
        "scale",
    }
    assert np.all(new.theta_ >= 0)  # never decreasing: adding an op never lowers latency
    assert old.map_[1] >= 0


def test_learned_prior_from_other_devices_is_used_when_it_fits(synth, archs):
    batch = encode(archs)
    lookup = LookupPredictor().fit(*op_data(synth.op_table(batch.ops)).xy)
    src = source_op_costs(lookup, batch.ops)
    others = {
        f"gpu{i}": _target(synth, archs, pool=0.05 * (1 + 0.1 * i), conv=3.0, skip=0.2)
        for i in range(4)
    }
    prior = DevicePrior.fit_devices({d: (batch, y) for d, y in others.items()}, lambda ops: src)
    y = _target(synth, archs, pool=0.055, conv=3.0, skip=0.2, const=0.7)
    shots = choose_shots(batch.n, 6, seed=2)
    rest = np.setdiff1d(np.arange(batch.n), shots)
    with_prior = TransferPredictor(lookup, prior=prior).fit(batch.take(shots), y[shots])
    plain = TransferPredictor(lookup, "opcost").fit(batch.take(shots), y[shots])
    assert with_prior.method_ in ("opcost-learned", "opcost-nearest")

    def err(m):
        return np.mean(np.abs(m.predict(batch.take(rest)) / y[rest] - 1))

    assert err(with_prior) < err(plain)
    with pytest.raises(Exception, match="needs a DevicePrior"):
        TransferPredictor(lookup, "opcost-learned").fit(batch.take(shots), y[shots])


def test_far_queries_warn_and_intervals_cover_held_out_networks(synth, source, archs):
    rng = np.random.default_rng(0)
    y = _target(synth, archs, pool=5.0) * (1 + 0.03 * rng.standard_normal(len(archs)))
    model = TransferPredictor(source).fit(archs[:15], y[:15])
    pred, lo, hi = model.predict_interval(archs[15:], coverage=0.9)
    assert np.all(lo < pred) and np.all(pred < hi)
    assert np.mean((lo <= y[15:]) & (y[15:] <= hi)) >= 0.7
    big = sample_architectures("nasbench201", 2, "paper", seed=0)  # 5 cells a stage: ~5x
    with pytest.warns(ExtrapolationWarning, match="beyond"):
        model.predict(big)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtrapolationWarning)
        model.predict(archs[15:20])


def test_shots_are_random_and_seeded():
    a, b = choose_shots(1000, 10, 0), choose_shots(1000, 10, 0)
    assert np.array_equal(a, b) and len(set(a)) == 10 and not np.array_equal(a, np.arange(10))
    assert not np.array_equal(a, choose_shots(1000, 10, 1))


def test_transfer_with_a_prior_reloads_bit_identically(synth, archs, tmp_path):
    batch = encode(archs)
    lookup = LookupPredictor().fit(*op_data(synth.op_table(batch.ops)).xy)
    others = {f"d{i}": _target(synth, archs, pool=1 + i) for i in range(3)}
    src = source_op_costs(lookup, batch.ops)
    prior = DevicePrior.fit_devices({d: (batch, y) for d, y in others.items()}, lambda ops: src)
    model = TransferPredictor(lookup, prior=prior).fit(archs[:10], _target(synth, archs[:10]))
    again = load(save(model, tmp_path / "t.json"))
    assert again.predict(archs).tobytes() == model.predict(archs).tobytes()
    assert again.method_ == model.method_ and again.prior.devices == ["d0", "d1", "d2"]


@pytest.mark.slow
def test_cli_transfers_an_op_predictor_and_evaluate_validate_accept_it(
    synth, archs, tmp_path, nb201_ops
):
    from latbench.tables import LATENCY, TableWriter

    w = TableWriter(
        tmp_path / "ops.csv",
        LATENCY,
        {"fingerprint": {"slug": "cpu-test-1t"}, "protocol": {}, "protocol_id": "p"},
    )
    for s in nb201_ops:
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
    ops, out = tmp_path / "ops.json", tmp_path / "t.json"
    assert main(["fit", str(w.path), "-o", str(ops)]) == 0  # an op-level (lookup) predictor
    nets = _write_target(
        tmp_path / "t.networks.csv", archs, _target(synth, archs, pool=30.0, conv=0.2)
    )
    others = [
        _write_target(
            tmp_path / f"o{i}.networks.csv",
            archs[:60],
            _target(synth, archs[:60], pool=25.0 + 10 * i, conv=0.2),
            f"gpu-{i}",
        )
        for i in range(2)
    ]
    assert (
        main(
            [
                "fit",
                "--transfer-from",
                str(ops),
                "--networks",
                str(nets),
                "--shots",
                "10",
                "--seed",
                "3",
                "--prior-from",
                *map(str, others),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    state = json.loads(out.read_text())["state"]
    assert len(state["shots"]) == 10 and state["method_"].startswith("opcost")
    assert state["prior"]["devices"] == ["gpu-0", "gpu-1"]
    report = tmp_path / "e.json"
    assert (
        main(
            [
                "evaluate",
                str(out),
                str(nets),
                "--plot",
                str(tmp_path / "e.png"),
                "--json",
                str(report),
            ]
        )
        == 0
    )
    scored = json.loads(report.read_text())["TransferPredictor"]
    # shots left out; the ranking is the target's (the source's own ranking scores ~0.5 here)
    assert 100 < scored["n"] <= len(archs) - 10 and scored["spearman_rho"] > 0.8
    assert _validate_prediction(archs[0], out)["predicted_ms"] > 0  # validate --predictor


def _validate_prediction(arch, path):
    """What ``validate --predictor PATH`` predicts (its loader moved to the CLI on main)."""
    try:
        from latbench.cli.validate import load_network_predictor
    except ImportError:
        return predict_latency(arch, path)
    return predict_latency(arch, path, load=load_network_predictor)


def _write_target(path, archs, y, slug="gpu-x"):
    from latbench.netprofile import NETWORKS, arch_columns
    from latbench.tables import TableWriter

    w = TableWriter(
        path, NETWORKS, {"fingerprint": {"slug": slug}, "protocol": {}, "protocol_id": "p"}
    )
    seen = set()
    for a, ms in zip(archs, y):
        row = arch_columns(a, "small")
        if row["arch_id"] in seen:  # a sample can repeat a network; a table keeps one row per key
            continue
        seen.add(row["arch_id"])
        w.append(
            {
                **row,
                "repeat": 1,
                "status": "ok",
                "source": "measured",
                "protocol_id": "p",
                "latency_median_ms": ms,
                "latency_min_ms": ms,
            }
        )
    return path


def test_a_transfer_file_saved_before_op_costs_still_loads(source, archs, tmp_path):
    """Version-0 state (a loglinear map only) predicts exp(a + b log ŷ_source) as it did."""
    from latbench.predictors.persist import state_of

    doc = {
        "params": {"method": "loglinear", "device": "gpu-x"},
        "base": state_of(source),
        "slope": 0.8,
        "intercept": 0.3,
        "n_shots": 10,
        "fit_metrics": {},
    }
    old = TransferPredictor.from_state(doc)
    expected = np.exp(0.3 + 0.8 * np.log(source.predict(archs[:5])))
    assert np.allclose(old.predict(archs[:5]), expected, rtol=1e-12)
    assert (
        load(save(old, tmp_path / "old.json")).predict(archs[:5]).tobytes()
        == old.predict(archs[:5]).tobytes()
    )


def test_batch_transfer_uses_the_batch1_op_costs_of_the_same_device(synth, source, archs):
    """A batch-1 transfer predictor as source: batch-8 ops are priced by their batch-1 twins."""
    from latbench.archs.nasbench201 import build_network, parse_genotype

    at8 = [build_network(parse_genotype(a.genotype), "small", batch=8) for a in archs]
    y1 = _target(synth, archs, pool=30.0, conv=0.2)
    y8 = _target(synth, at8, pool=30.0, conv=0.2, const=0.5)
    batch1 = TransferPredictor(source, "opcost").fit(archs[:60], y1[:60])
    keys1 = {op.key for a in archs for op in a.ops()}
    assert not keys1 & {op.key for op in at8[0].ops()}  # no batch-8 op among the batch-1 ones
    shots = choose_shots(len(at8), 6, seed=0)
    rest = np.setdiff1d(np.arange(len(at8)), shots)
    model = TransferPredictor(batch1, "opcost").fit([at8[i] for i in shots], y8[shots])
    cpu = TransferPredictor(source, "opcost").fit([at8[i] for i in shots], y8[shots])
    rho, rho_cpu = (
        stats.spearmanr(m.predict([at8[i] for i in rest]), y8[rest]).statistic for m in (model, cpu)
    )
    assert rho > 0.95 and rho > rho_cpu


def test_sources_a_transfer_cannot_use_are_one_line(synth, archs, tmp_path, capsys):
    """A memory predictor as --transfer-from, an op table as --prior-from, --prior-from beside
    a fit that reads none and --kind learned beside a transfer: refused, never ignored."""
    profile = Path(__file__).parents[2] / "device_profiles" / "cpu-amd-epyc-1t"
    nets = str(_write_target(tmp_path / "t.networks.csv", archs[:20], _target(synth, archs[:20])))
    memory, ops = str(tmp_path / "m.json"), str(profile / "nasbench201-small.csv")
    assert (
        main(["fit", "--kind", "memory", str(profile / "memory-dints-small.csv"), "-o", memory])
        == 0
    )
    other = tmp_path / "gpu.networks.csv"
    other = str(_write_target(other, archs[:20], _target(synth, archs[:20], pool=9.0), "gpu"))
    source = ["--transfer-from", str(profile / "nasbench201-paper.predictor.json")]
    shots = ["--networks", nets, "--shots", "5", "-o", str(tmp_path / "o.json")]
    for argv, needle in (
        # the same table twice, the target's own table, a saved file beside tables: were
        # learned from (two devices of one, the target's latencies flattering its transfer)
        ([*source, *shots, "--prior-from", other, other], f"{other}: the same file as {other}"),
        ([*source, *shots, "--prior-from", other, nets], f"{nets}: the same file as --networks"),
        ([*source, *shots, "--prior-from", memory, other], f"{memory}: a saved prior goes alone"),
        (["--kind", "prior", "--prior-from", other, other, *shots[-2:]], "the same file as"),
        (
            ["--transfer-from", memory, *shots],
            f"{memory}: a TrainingMemoryPredictor, not a latency",
        ),
        ([*source, *shots, "--prior-from", ops], f"{ops}: is a latbench.latency table"),
        ([ops, "--prior-from", nets, "-o", str(tmp_path / "o.json")], "--prior-from is read by"),
        (["--kind", "learned", *source, *shots], "--kind learned fits an op predictor"),
    ):
        capsys.readouterr()
        assert main(["fit", *argv]) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], (argv, err)
    assert not (tmp_path / "o.json").exists()


def test_a_batch_1_transfer_does_not_predict_batch_32_networks_at_batch_1_costs(
    synth, source, archs
):
    """Op costs fitted on batch-1 shots were taken for the same ops at batch 32 (the key a
    prior knows an op by), so a batch-32 network got its batch-1 latency without a word.
    A source still gets them (``op_costs``' default): that is what a fit at batch 32 starts from."""
    y = _target(synth, archs, pool=3.0)
    model = TransferPredictor(source, "opcost").fit(archs[:10], y[:10])
    batch = encode(archs[10:20])
    at_32 = batch.__class__(
        [op.replace(input_shape=(32, *op.input_shape[1:])) for op in batch.ops],
        batch.groups,
        batch.n,
    )
    assert np.array_equal(model.op_costs(at_32.ops), model.op_costs(batch.ops))  # as a source
    with pytest.warns(UserWarning, match="shots' ops at another batch size"):
        pred_32 = model.predict(at_32)  # the source's batch-32 costs, scaled, and a warning
    assert (pred_32 > 2 * model.predict(batch)).all()


@pytest.mark.parametrize(
    "edit, needle",
    [
        (lambda s: s["params"].update(coverage="x"), "'params.coverage' is 'x'"),
        (lambda s: s["params"].update(coverage=7), "'params.coverage' is '7'"),
        (lambda s: s["params"].update(coverage=None), "'params.coverage'"),
        (lambda s: s.update(residuals=[]), "'residuals'"),
    ],
)
def test_a_rechecksummed_coverage_or_residuals_is_one_line(
    synth, source, archs, tmp_path, capsys, edit, needle
):
    """An interval's coverage outside (0, 1) and no residuals printed nan or a traceback."""
    from test_persist_damaged import rechecksum

    model = TransferPredictor(source).fit(archs[:6], _target(synth, archs[:6], pool=2.0))
    doc = json.loads(save(model, tmp_path / "t.json").read_text())
    edit(doc["state"])
    path = tmp_path / "edited.json"
    path.write_text(rechecksum(doc))
    assert (
        main(["predict", str(path), "--space", "nasbench201", "--size", "small", "--n", "2"]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "damaged" in err[0] and needle in err[0], err
