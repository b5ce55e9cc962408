"""Few-shot transfer to a model-zoo column (``ModelTransferPredictor``) on synthetic models."""

from __future__ import annotations

import numpy as np
import pytest

from latbench.archs.published_models import timm_model
from latbench.errors import LatbenchError
from latbench.importing_timm import ModelNetworks
from latbench.model_features import FEATURES
from latbench.predictors.model_transfer import ModelTransferPredictor, SourceColumn
from latbench.predictors.persist import dumps

N = 60


def zoo(seed: int = 0, batch: int = 256) -> tuple[ModelNetworks, ModelNetworks]:
    """A source and a target column of the same N models. The target's per-image latency
    grows with the op count (launch overhead) as well as FLOPs, the source's with FLOPs only,
    so the target ranks differently from the source and from FLOPs; rows differ in batch as
    after OOM retries; 2 % measurement noise."""
    rng = np.random.default_rng(seed)
    flops, n_ops = 1e9 * np.exp(rng.normal(0, 1, N)), rng.integers(50, 600, N)
    # every feature follows FLOPs (sizes, elements) or the op count (n_*), loosely
    feats = np.stack(
        [
            (n_ops if f.startswith("n_") else flops) * np.exp(rng.normal(0, 0.3, N))
            for f in FEATURES
        ],
        axis=1,
    )
    i = {f: FEATURES.index(f) for f in ("flops", "n_ops")}
    feats[:, i["flops"]], feats[:, i["n_ops"]] = flops, n_ops
    names = [f"net{j}" for j in range(N)]
    sizes = np.full(N, 224)
    src_per_image = 1e-9 * feats[:, i["flops"]]
    tgt_per_image = 1e-7 * feats[:, i["flops"]] ** 0.7 * feats[:, i["n_ops"]] ** 0.8
    batches = np.where(rng.random(N) < 0.2, batch // 2, batch)
    noise = np.exp(rng.normal(0, 0.02, N))
    source = ModelNetworks(
        names, sizes, np.full(N, batch), feats, src_per_image * batch, device="src"
    )
    target = ModelNetworks(
        names, sizes, batches, feats, tgt_per_image * batches * noise, device="tgt"
    )
    return source, target


def test_few_shots_learn_the_targets_own_ranking():
    source, target = zoo()
    src = SourceColumn.fit("src", source.keys, source.features, source.latency_ms / source.batch)
    rows = np.arange(0, N, 3)  # 20 shots
    test = np.setdiff1d(np.arange(N), rows)
    model = ModelTransferPredictor(FEATURES, [src]).fit(target.take(rows), target.latency_ms[rows])
    pred = model.predict(target)
    rel = np.abs(pred[test] / target.latency_ms[test] - 1)
    only_source = ModelTransferPredictor(FEATURES, [src], "source").fit(
        target.take(rows), target.latency_ms[rows]
    )
    rel_source = np.abs(only_source.predict(target)[test] / target.latency_ms[test] - 1)
    assert np.mean(rel <= 0.10) >= 0.6 > np.mean(rel_source <= 0.10) + 0.2, model.cv_scores_
    assert set(model.cv_scores_) == {
        "loglinear",
        "features",
        "source",
        "source-nearest",
        "source+features",
    }
    assert model.method_ in ("features", "source+features")  # n_ops explains the target
    from scipy import stats

    flops = target.features[:, FEATURES.index("flops")]
    assert (
        stats.spearmanr(pred[test], target.latency_ms[test])[0]
        > stats.spearmanr(flops[test], target.latency_ms[test])[0] + 0.2
    )


def test_nearest_source_is_the_one_that_tracks_the_target():
    source, target = zoo(3)
    unrelated = np.exp(np.random.default_rng(9).normal(0, 1, N))
    cols = [
        SourceColumn.fit("noise", source.keys, source.features, unrelated),
        SourceColumn.fit(
            "twin", source.keys, source.features, target.latency_ms / target.batch * 1.7
        ),
    ]
    model = ModelTransferPredictor(FEATURES, cols, "source-nearest").fit(
        target.take(np.arange(12)), target.latency_ms[np.arange(12)]
    )
    assert model.nearest_ == 1
    test = np.arange(12, N)
    assert np.all(np.abs(model.predict(target)[test] / target.latency_ms[test] - 1) < 0.1)


def test_saved_and_loaded_predicts_the_same():
    from latbench.predictors.persist import from_state_of, parse

    source, target = zoo(1)
    src = SourceColumn.fit(
        "src", source.keys[:50], source.features[:50], (source.latency_ms / source.batch)[:50]
    )  # 10 models missing
    model = ModelTransferPredictor(FEATURES, [src]).fit(
        target.take(np.arange(10)), target.latency_ms[np.arange(10)]
    )
    assert model.imputed(target) == {"src": 10}
    again = from_state_of(parse(dumps(model, device="tgt")))
    np.testing.assert_array_equal(again.predict(target), model.predict(target))
    assert again.method_ == model.method_ and again.shots_ == model.shots_


def test_reads_imported_architectures_and_refuses_others():
    _, target = zoo(2)
    archs = [
        timm_model(
            f"timm:{n}",
            {
                "model": f"timm:{n}",
                "img_size": 224,
                "batch": int(b),
                "input_shape": [int(b), 3, 224, 224],
                "features": dict(zip(FEATURES, map(float, f))),
            },
        )
        for n, b, f in zip(target.names, target.batch, target.features)
    ]
    model = ModelTransferPredictor(FEATURES).fit(archs[:12], target.latency_ms[:12])
    np.testing.assert_allclose(model.predict(archs), model.predict(target))
    assert len(model.shots_) == 12 and model.shots_[0] != target.keys[0]  # arch digests
    assert "source" not in model.cv_scores_  # no source column: features only
    with pytest.raises(LatbenchError, match="space timm"):
        from latbench.archs import sample_architectures

        model.predict(sample_architectures("nasbench201", 1, "small", seed=0))
    with pytest.raises(LatbenchError, match=">= 5 models"):
        ModelTransferPredictor(FEATURES).fit(
            target.take(np.arange(3)), target.latency_ms[np.arange(3)]
        )
    with pytest.raises(LatbenchError, match="timm:NAME"):
        timm_model("resnet18", {"input_shape": [1, 3, 8, 8]})


@pytest.mark.parametrize(
    "edit, needle",
    [
        (
            lambda s: s["params"]["feature_names"].__setitem__(0, "bogus"),
            "feature_names",
        ),  # KeyError
        (lambda s: s["stats"][1].__setitem__(0, 0), "'stats'"),  # sd 0: NaN / inf ms
        (lambda s: s["stats"][0].__setitem__(0, None), "'stats'"),
        (lambda s: s["w"].__setitem__(0, 1e300), "'w'"),  # 0 ms or inf ms
        (lambda s: s["sources"][0]["log_ms"].update({"net0@224": "x"}), "log_ms"),
        (lambda s: s["sources"][0]["stats"].pop(), "sources[0].stats"),
    ],
)
def test_a_saved_zoo_transfer_whose_ridge_means_nothing_is_damaged(tmp_path, edit, needle):
    """Each was a KeyError/ValueError traceback or NaN/inf/0 ms at the first prediction."""
    import json

    from test_persist_damaged import _assert_damaged

    source, target = zoo(1)
    src = SourceColumn.fit("src", source.keys, source.features, source.latency_ms / source.batch)
    model = ModelTransferPredictor(FEATURES, [src]).fit(
        target.take(np.arange(10)), target.latency_ms[np.arange(10)]
    )
    doc = json.loads(dumps(model, device="tgt"))
    edit(doc["state"])
    _assert_damaged(doc, tmp_path, needle)
