"""The estimator contract, on every predictor class: scikit-learn's own checks
(``parametrize_with_checks``), then clone / get_params / set_params / check_is_fitted and
``fit(X, y)`` / ``predict(X)`` on real inputs (OpSpecs or architectures).

A new class in the ``persistable`` registry is picked up; the test fails until ``_fitted``
below knows how to make a fitted instance of it.
"""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_parameters_default_constructible,
    check_set_params,
    parametrize_with_checks,
)
from sklearn.utils.validation import check_is_fitted

from latbench.architecture import INPUT, Architecture, Edge
from latbench.errors import LatbenchError
from latbench.model_features import FEATURES
from latbench.notfitted import NotFittedError
from latbench.opspec import OpSpec
from latbench.predictors.base import Predictor, input_level
from latbench.predictors.data import op_data
from latbench.predictors.gpu_specs import SpecSheetPredictor
from latbench.predictors.learned import FlopsCost, LearnedPredictor
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.memory import TrainingMemoryPredictor
from latbench.predictors.memory_screen import MemoryScreen
from latbench.predictors.model_transfer import ModelTransferPredictor
from latbench.predictors.network import NetworkPredictor
from latbench.predictors.persist import _CLASSES, _ensure_loaded
from latbench.predictors.transfer import TransferPredictor

_ensure_loaded()
REGISTRY = sorted(_CLASSES)
CLASSES = sorted([*REGISTRY, "MemoryScreen"])

NUMERIC_X = (
    "feeds a numeric 2-D array as X; a predictor's X is a sequence of OpSpecs or "
    "architectures (input_level)"
)
FEEDS_NUMERIC_X = (
    "check_fit_score_takes_y",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
)
"""scikit-learn's API checks that fit on random numbers: expected to fail for every class
that reads its X (``xfail_strict``: one that passes fails the test)."""
STATELESS_FAILS = {
    "check_n_features_in_after_fitting": "stateless: fit reads no X, so no n_features_in_"
}
"""The one API check a predictor that ignores X in fit (FlopsCost, SpecSheetPredictor)
fails."""


def _unfitted() -> list[Predictor]:
    memory = TrainingMemoryPredictor()
    return [
        FlopsCost(),
        LearnedPredictor(),
        LookupPredictor(),
        ModelTransferPredictor(FEATURES),
        NetworkPredictor(FlopsCost()),
        SpecSheetPredictor(),
        TrainingMemoryPredictor(),
        TransferPredictor(FlopsCost()),
        MemoryScreen(memory),
    ]


def _expected_failed(estimator: Predictor) -> dict[str, str]:
    if isinstance(estimator, (FlopsCost, SpecSheetPredictor)):
        return STATELESS_FAILS
    return dict.fromkeys(FEEDS_NUMERIC_X, NUMERIC_X)


def test_every_class_is_checked_by_scikit_learn():
    assert {type(e).__name__ for e in _unfitted()} == set(CLASSES)


@parametrize_with_checks(
    _unfitted(), legacy=False, expected_failed_checks=_expected_failed, xfail_strict=True
)
def test_scikit_learn_api_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", _unfitted(), ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(
    "check",
    [check_get_params_invariance, check_set_params, check_parameters_default_constructible],
)
def test_scikit_learn_param_checks(estimator, check):
    if check is check_parameters_default_constructible and isinstance(
        estimator, TrainingMemoryPredictor
    ):
        pytest.xfail("config defaults to a TrainConfig(), a frozen dataclass sklearn does not list")
    check(type(estimator).__name__, estimator)


def _zoo_column(n: int = 12):
    """A tiny model-zoo column (``ModelNetworks``): what a ModelTransferPredictor takes."""
    from latbench.importing_timm import ModelNetworks

    rng = np.random.default_rng(0)
    feats = np.exp(rng.normal(0, 1, (n, len(FEATURES))))
    return ModelNetworks(
        [f"net{j}" for j in range(n)],
        np.full(n, 224),
        np.full(n, 8),
        feats,
        feats[:, 0] * 8,
        device="tgt",
    )


def _chain(channels: int) -> Architecture:
    op = OpSpec.make("conv", (1, channels, 8, 8, 8), norm="in", act="relu")
    return Architecture("hand3d", (Edge((INPUT,), "n1", op), Edge(("n1",), "n2", op)), "n2")


def _fitted(name, synth, ops, archs):
    X, y = op_data(synth.op_table(ops)).xy
    measured = np.array([synth.network_ms(a) for a in archs])
    lookup = LookupPredictor().fit(X, y)
    network = NetworkPredictor(lookup).fit(archs, measured)
    memory = TrainingMemoryPredictor("allocated").fit([], [])
    zoo = _zoo_column()
    return {
        "LookupPredictor": lambda: LookupPredictor(fallback=FlopsCost()).fit(X, y),
        "LearnedPredictor": lambda: LearnedPredictor().fit(X, y),
        "FlopsCost": lambda: FlopsCost().fit(X),
        "NetworkPredictor": lambda: network,
        "TransferPredictor": lambda: TransferPredictor(network).fit(archs[:8], measured[:8]),
        "TrainingMemoryPredictor": lambda: memory,
        "SpecSheetPredictor": lambda: SpecSheetPredictor("V100").fit(),
        "ModelTransferPredictor": lambda: ModelTransferPredictor(FEATURES).fit(zoo, zoo.latency_ms),
        "MemoryScreen": lambda: MemoryScreen(memory).fit([_chain(c) for c in range(2, 16, 2)]),
    }[name]()


@pytest.fixture(scope="module", params=CLASSES)
def fitted(request, synth, nb201_ops, nb201_archs):
    return _fitted(request.param, synth, nb201_ops, nb201_archs)


def test_every_registered_class_is_a_predictor_estimator():
    assert {"LookupPredictor", "NetworkPredictor", "TransferPredictor"} <= set(REGISTRY)
    for cls in [*_CLASSES.values(), MemoryScreen]:
        assert issubclass(cls, Predictor) and issubclass(cls, BaseEstimator)
        assert cls.input_level in ("op", "network")
        assert "costs" not in vars(cls), f"{cls.__name__} redefines costs()"


def test_clone_gives_an_unfitted_copy_with_equal_params(fitted):
    again = clone(fitted)
    assert type(again) is type(fitted)
    assert again.get_params(deep=False).keys() == fitted.get_params(deep=False).keys()
    for key in fitted.fitted_params:  # already-fitted components are shared, not refitted
        assert getattr(again, key) is getattr(fitted, key)
    if fitted.fitted_attr is not None:
        with pytest.raises(sklearn.exceptions.NotFittedError):
            check_is_fitted(again)


def test_check_is_fitted_and_latbench_error(fitted, nb201_ops, nb201_archs):
    check_is_fitted(fitted)
    if fitted.fitted_attr is None:
        return
    fresh = clone(fitted)
    with pytest.raises(NotFittedError, match=f"{type(fitted).__name__} is not fitted") as err:
        fresh.predict(_queries(fitted, nb201_ops, nb201_archs))
    assert isinstance(err.value, sklearn.exceptions.NotFittedError)
    assert isinstance(err.value, LatbenchError)
    if hasattr(fresh, "to_state"):  # a persistable predictor: nothing to save
        with pytest.raises(NotFittedError, match="is not fitted"):
            fresh.to_state()


def _queries(model, ops, archs):
    if isinstance(model, ModelTransferPredictor):  # whole models of a zoo, not a space's nets
        return _zoo_column().take(np.arange(5))
    if isinstance(model, (TrainingMemoryPredictor, MemoryScreen)):
        return [_chain(c) for c in (3, 5, 7, 9, 11)]
    return archs[:5] if input_level(model) == "network" else ops[:5]


def test_costs_is_predict_as_a_tensor(fitted, nb201_ops, nb201_archs):
    queries = _queries(fitted, nb201_ops, nb201_archs)
    t = fitted.costs(queries)
    assert t.dtype.is_floating_point and t.shape == (5,)
    assert np.allclose(t.numpy(), fitted.predict(queries), rtol=1e-6)


def test_fit_and_predict_take_x_and_y_only():
    """One signature: ``fit(X, y)`` (y optional only where fit reads no y) and
    ``predict(X)``; the older verbs are gone."""
    import inspect

    for est in _unfitted():
        fit = list(inspect.signature(est.fit).parameters.values())
        assert [p.name for p in fit[:2]] == ["X", "y"], type(est).__name__
        assert all(p.kind is p.KEYWORD_ONLY for p in fit[2:]), type(est).__name__
        assert list(inspect.signature(est.predict).parameters) == ["X"], type(est).__name__
        for gone in ("predict_archs", "predict_with_coverage", "estimate", "fit_specs"):
            assert not hasattr(est, gone), f"{type(est).__name__}.{gone}"


def test_input_level_refuses_an_object_that_does_not_say():
    with pytest.raises(LatbenchError, match="input_level"):
        input_level(object())
