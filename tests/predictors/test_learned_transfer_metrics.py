import numpy as np
import pytest
from scipy import stats

from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.predictors.data import op_data
from latbench.predictors.learned import LearnedPredictor, flops_baseline
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.metrics import accuracy
from latbench.predictors.network import NetworkPredictor
from latbench.predictors.transfer import TransferPredictor


def _ops():
    convs = [
        OpSpec.make("conv", (1, c, r, r), kernel=k)
        for c in (8, 16, 32)
        for r in (8, 16, 32)
        for k in (1, 3)
    ]
    pools = [
        OpSpec.make("pool", (1, c, r, r), reduce="avg", kernel=3, stride=1)
        for c in (8, 16, 32)
        for r in (8, 16, 32)
    ]
    return convs + pools


def test_learned_beats_the_flops_baseline_on_held_out_ops(synth):
    ops = _ops()
    rng = np.random.default_rng(0)
    test = rng.permutation(len(ops))[:8]
    train = [s for i, s in enumerate(ops) if i not in set(test)]
    truth = np.array([synth.true_ms(ops[i]) for i in test])
    learned = (
        LearnedPredictor().fit(*op_data(synth.op_table(train)).xy).predict([ops[i] for i in test])
    )
    baseline = (
        flops_baseline().fit(*op_data(synth.op_table(train)).xy).predict([ops[i] for i in test])
    )
    # the truth is additive (overhead + FLOPs + bytes), the model log-linear: close, not exact
    assert accuracy(learned, truth)["mape_pct"] < 20
    assert accuracy(learned, truth)["mape_pct"] < accuracy(baseline, truth)["mape_pct"] / 3


def test_unknown_features_and_unseen_kinds_are_reported(synth):
    with pytest.raises(LatbenchError, match="unknown feature"):
        LearnedPredictor(features=("log_flops", "colour")).fit(*op_data(synth.op_table(_ops())).xy)
    model = LearnedPredictor().fit(*op_data(synth.op_table(_ops())).xy)
    with pytest.warns(UserWarning, match="not in the fit table"):
        pred = model.predict([OpSpec.make("identity", (1, 8, 8, 8))])
    assert pred[0] > 0


def test_loglinear_transfer_maps_scale_and_keeps_rank(synth, nb201_ops, nb201_archs):
    measured_a = np.array([synth.network_ms(a) for a in nb201_archs])
    base = NetworkPredictor(LookupPredictor().fit(*op_data(synth.op_table(nb201_ops)).xy)).fit(
        nb201_archs, measured_a
    )
    measured_b = 3.0 * measured_a**0.8  # device B: faster on big nets, slower on small ones
    model = TransferPredictor(base, "loglinear").fit(nb201_archs[:10], measured_b[:10])
    pred = model.predict(nb201_archs[10:])
    assert accuracy(pred, measured_b[10:])["within_5pct"] == 1.0
    with pytest.raises(LatbenchError, match=">= 3 networks"):
        TransferPredictor(base).fit(nb201_archs[:2], measured_b[:2])


def test_metrics_on_known_values():
    m = accuracy([1.0, 2.06, 3.24, 3.0], [1.0, 2.0, 3.0, 4.0])
    assert m["mape_pct"] == pytest.approx(100 * (0 + 0.03 + 0.08 + 0.25) / 4)
    assert m["within_5pct"] == 0.5 and m["within_10pct"] == 0.75
    assert m["kendall_tau"] == pytest.approx(4 / 6) and m["spearman_rho"] == pytest.approx(0.8)
    swapped = accuracy([2.0, 1.0, 3.0], [1.0, 2.0, 3.0])
    assert swapped["kendall_tau"] == pytest.approx(stats.kendalltau([2, 1, 3], [1, 2, 3])[0])
    with pytest.raises(LatbenchError, match="same length"):
        accuracy([1.0, 2.0], [1.0, 2.0, 3.0])
