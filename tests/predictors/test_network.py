import numpy as np
import pytest

from latbench.errors import LatbenchError
from latbench.notfitted import NotFittedError
from latbench.predictors.batch import ArchBatch, encode
from latbench.predictors.data import op_data
from latbench.predictors.learned import FlopsCost
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.network import NetworkPredictor
from latbench.predictors.persist import load, save


@pytest.fixture(scope="module")
def lut(synth, nb201_ops):
    return LookupPredictor().fit(*op_data(synth.op_table(nb201_ops)).xy)


def test_batched_sum_and_longest_path_match_the_architecture(synth, nb201_archs):
    batch = encode(nb201_archs)
    costs = np.array([synth.true_ms(op) for op in batch.ops])
    feats = batch.features(costs)
    for i, arch in enumerate(nb201_archs):
        op_sum = sum(synth.true_ms(op) for op in arch.ops())
        assert feats["op_sum"][i] == pytest.approx(op_sum)
        assert feats["longest_path"][i] == pytest.approx(
            arch.longest_path(lambda e: synth.true_ms(e.op))
        )
        assert feats["n_edges"][i] == len(arch.edges)
    assert np.all(feats["longest_path"] < feats["op_sum"])  # cells have parallel branches
    assert feats["n_merges"][0] == 3 * 3 + 2  # 3 cells x (1 + 2) additions + 2 shortcuts


def test_take_resamples_rows_in_order(nb201_archs):
    batch = encode(nb201_archs)
    costs = np.arange(len(batch.ops), dtype=float) + 1
    rows = np.array([5, 0, 5, 39])
    assert np.array_equal(
        batch.take(rows).features(costs)["op_sum"], batch.features(costs)["op_sum"][rows]
    )


def test_calibration_recovers_overhead_and_beats_the_plain_sum(synth, lut, nb201_archs):
    measured = np.array([synth.network_ms(a) for a in nb201_archs])
    plain = NetworkPredictor(lut, calibration="none").fit(nb201_archs, measured)
    calibrated = NetworkPredictor(lut).fit(nb201_archs[:20], measured[:20])
    held_out = calibrated.predict(nb201_archs[20:])
    np.testing.assert_allclose(held_out, measured[20:], rtol=1e-6)
    assert np.max(np.abs(plain.predict(nb201_archs) / measured - 1)) > 0.1
    assert calibrated.fit_metrics_["within_5pct"] == 1.0


def test_list_and_batch_inputs_agree_and_costs_is_a_tensor(synth, lut, nb201_archs):
    model = NetworkPredictor(lut, calibration="scale").fit(
        nb201_archs, [synth.network_ms(a) for a in nb201_archs]
    )
    batch = encode(nb201_archs)
    assert np.array_equal(model.predict(nb201_archs), model.predict(batch))
    assert model.costs(batch).shape == (len(nb201_archs),)


def test_from_indices_builds_a_population_without_architectures(synth, lut, nb201_archs):
    model = NetworkPredictor(lut, calibration="scale").fit(
        nb201_archs, [synth.network_ms(a) for a in nb201_archs]
    )
    batch = encode(nb201_archs)
    group = batch.groups[0]
    pop = ArchBatch.from_indices(batch.ops, group.wiring, group.op_index[[1, 1, 2]])
    expected = model.predict(batch)[group.rows[[1, 1, 2]]]
    assert np.array_equal(model.predict(pop), expected)


def test_flops_baseline_needs_a_fitted_map_and_errors_are_clear(nb201_archs):
    with pytest.raises(LatbenchError, match="not ms"):
        NetworkPredictor(FlopsCost(), calibration="none").fit(nb201_archs, np.ones(40))
    with pytest.raises(LatbenchError, match="calibration='bogus' is not one of"):
        NetworkPredictor(FlopsCost(), calibration="bogus").fit(nb201_archs, np.ones(40))
    with pytest.raises(LatbenchError, match="one measurement per architecture"):
        NetworkPredictor(FlopsCost(), calibration="linear").fit(nb201_archs, np.ones(3))
    with pytest.raises(NotFittedError):
        NetworkPredictor(FlopsCost()).predict(nb201_archs)


def test_split_calibration_recovers_a_slowdown_of_the_small_ops(synth, nb201_archs):
    """Networks where ops under the threshold run 1.25x their isolated time (cold caches)
    plus 0.01 ms per op: one op_sum weight cannot fit them, the split can."""
    batch = encode(nb201_archs)
    costs = np.array([synth.true_ms(op) for op in batch.ops])
    threshold = float(np.median(costs))
    counts = batch.counts()
    n_ops = counts.sum(axis=1)
    measured = counts @ np.where(costs < threshold, 1.25 * costs, costs) + 0.01 * n_ops
    lut_exact = LookupPredictor().fit(*op_data(synth.op_table(batch.ops)).xy)
    split = NetworkPredictor(lut_exact, calibration="split", small_op_ms=threshold)
    split.fit(nb201_archs[:25], measured[:25])
    affine = NetworkPredictor(lut_exact).fit(nb201_archs[:25], measured[:25])
    err_split = np.abs(split.predict(nb201_archs[25:]) / measured[25:] - 1)
    err_affine = np.abs(affine.predict(nb201_archs[25:]) / measured[25:] - 1)
    assert err_split.max() < 1e-6 < err_affine.max()
    np.testing.assert_allclose(split.weights_, [1.0, 0.25, 0.01], rtol=1e-6)
    with pytest.raises(LatbenchError, match="split.*not ms"):
        NetworkPredictor(FlopsCost(), calibration="split").fit(nb201_archs[:5], measured[:5])


def test_per_kind_features_add_up_to_the_op_sum(synth, nb201_archs):
    batch = encode(nb201_archs)
    feats = batch.features(np.array([synth.true_ms(op) for op in batch.ops]), by_kind=True)
    kinds = [k for k in feats if k.startswith("op_sum:")]
    assert {k.split(":")[1] for k in kinds} == {op.kind for op in batch.ops}
    np.testing.assert_allclose(sum(feats[k] for k in kinds), feats["op_sum"])


def test_per_kind_calibration_recovers_kind_specific_context_costs(synth, lut, nb201_archs):
    """Networks where convs cost 1.5x their isolated time and everything else 1.0x: one
    op_sum weight cannot fit them, one weight per kind can."""
    batch = encode(nb201_archs)
    costs = np.array([synth.true_ms(op) for op in batch.ops])
    feats = batch.features(costs, by_kind=True)
    measured = feats["op_sum"] + 0.5 * feats["op_sum:conv"]
    lut_exact = LookupPredictor().fit(*op_data(synth.op_table(batch.ops)).xy)
    per_kind = NetworkPredictor(lut_exact, calibration="per_kind").fit(
        nb201_archs[:25], measured[:25]
    )
    affine = NetworkPredictor(lut_exact).fit(nb201_archs[:25], measured[:25])
    err_kind = np.abs(per_kind.predict(nb201_archs[25:]) / measured[25:] - 1)
    err_affine = np.abs(affine.predict(nb201_archs[25:]) / measured[25:] - 1)
    assert err_kind.max() < 1e-6 < err_affine.max()
    assert dict(zip(per_kind.terms_, per_kind.weights_))["op_sum:conv"] == pytest.approx(1.5)


def test_no_more_networks_than_terms_warns(synth, lut, nb201_archs):
    measured = np.array([synth.network_ms(a) for a in nb201_archs[:5]])
    with pytest.warns(UserWarning, match="5 networks for 5 calibration terms"):
        NetworkPredictor(lut).fit(nb201_archs[:5], measured)
    with pytest.warns(UserWarning, match="3 networks for 3 calibration terms"):
        NetworkPredictor(lut, calibration="split").fit(nb201_archs[:3], measured[:3])


@pytest.mark.parametrize("calibration", ["linear", "scale"])
def test_a_longest_path_composition_is_what_linear_and_scale_calibrate(
    calibration, synth, nb201_archs, tmp_path
):
    """The op sum was hard-coded in these calibrations: `--composition longest_path` fitted
    and predicted the op sum while the saved file said longest_path (and its file did not
    load: "damaged: field 'terms'")."""
    archs = nb201_archs[:12]
    flops = NetworkPredictor(FlopsCost(), "sum", "none").composed(archs)
    y = 1e-8 * flops["longest_path"] + (0.1 if calibration == "linear" else 0.0)
    path = NetworkPredictor(FlopsCost(), "longest_path", calibration).fit(archs, y)
    summed = NetworkPredictor(FlopsCost(), "sum", calibration).fit(archs, y)
    assert "longest_path" in path.terms_ and "op_sum" not in path.terms_
    assert np.allclose(path.predict(archs), y, rtol=1e-6)
    assert not np.allclose(summed.predict(archs), y, rtol=1e-3)
    reloaded = load(save(path, tmp_path / "path.json"))
    assert np.array_equal(reloaded.predict(archs), path.predict(archs))


@pytest.mark.parametrize("calibration", ["split", "per_kind"])
def test_calibrations_of_op_sums_refuse_a_longest_path_composition(calibration, nb201_archs):
    model = NetworkPredictor(FlopsCost(), "longest_path", calibration)
    with pytest.raises(LatbenchError, match="calibrates sums of op costs"):
        model.fit(nb201_archs[:5], np.ones(5))
