"""The scikit-learn estimator contract, checked on every class of the ``persistable`` registry.

A new predictor class is picked up from the registry; the test fails until ``FITTED`` below
knows how to make a fitted instance of it.
"""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from latbench.errors import LatbenchError
from latbench.model_features import FEATURES
from latbench.notfitted import NotFittedError
from latbench.predictors.base import Predictor, input_level
from latbench.predictors.gpu_specs import SpecSheetPredictor
from latbench.predictors.learned import FlopsCost, LearnedPredictor
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.memory import TrainingMemoryPredictor
from latbench.predictors.model_transfer import ModelTransferPredictor
from latbench.predictors.network import NetworkPredictor
from latbench.predictors.persist import _CLASSES, _ensure_loaded
from latbench.predictors.transfer import TransferPredictor


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


_ensure_loaded()
REGISTRY = sorted(_CLASSES)


def _fitted(name, synth, ops, archs):
    table = synth.op_table(ops)
    measured = np.array([synth.network_ms(a) for a in archs])
    lookup = LookupPredictor().fit(table)
    network = NetworkPredictor(lookup).fit(archs, measured)
    return {
        "LookupPredictor": lambda: LookupPredictor(fallback=FlopsCost()).fit(table),
        "LearnedPredictor": lambda: LearnedPredictor().fit(table),
        "FlopsCost": lambda: FlopsCost().fit(),
        "NetworkPredictor": lambda: network,
        "TransferPredictor": lambda: TransferPredictor(network).fit(archs[:8], measured[:8]),
        "TrainingMemoryPredictor": lambda: TrainingMemoryPredictor().fit(None),
        "SpecSheetPredictor": lambda: SpecSheetPredictor("V100").fit(),
        "ModelTransferPredictor": lambda: ModelTransferPredictor(FEATURES).fit(_zoo_column()),
    }[name]()


@pytest.fixture(scope="module", params=REGISTRY)
def fitted(request, synth, nb201_ops, nb201_archs):
    return _fitted(request.param, synth, nb201_ops, nb201_archs)


def test_every_registered_class_is_a_predictor_estimator():
    assert {"LookupPredictor", "NetworkPredictor", "TransferPredictor"} <= set(REGISTRY)
    for cls in _CLASSES.values():
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


def test_check_is_fitted_and_latbench_error(fitted):
    check_is_fitted(fitted)
    if fitted.fitted_attr is None:
        return
    fresh = clone(fitted)
    with pytest.raises(NotFittedError, match=f"{type(fitted).__name__} is not fitted") as err:
        fresh.to_state()
    assert isinstance(err.value, sklearn.exceptions.NotFittedError)
    assert isinstance(err.value, LatbenchError)


def test_costs_is_predict_as_a_tensor(fitted, nb201_ops, nb201_archs):
    queries = nb201_archs[:5] if input_level(fitted) == "network" else nb201_ops[:5]
    if isinstance(fitted, ModelTransferPredictor):  # whole models of a zoo, not a space's nets
        queries = _zoo_column().take(np.arange(5))
    t = fitted.costs(queries)
    assert t.dtype.is_floating_point and t.shape == (5,)
    assert np.allclose(t.numpy(), fitted.predict(queries), rtol=1e-6)


def test_input_level_refuses_an_object_that_does_not_say():
    with pytest.raises(LatbenchError, match="input_level"):
        input_level(object())
