import math

import pytest

from latbench.errors import LatbenchError
from latbench.notfitted import NotFittedError
from latbench.opspec import OpSpec
from latbench.predictors.data import op_data
from latbench.predictors.learned import LearnedPredictor
from latbench.predictors.lookup import LookupPredictor, MissingOpsError

SHAPES = [(1, 16, 8, 8), (1, 16, 16, 16), (1, 16, 64, 64)]


def conv(shape):
    return OpSpec.make("conv", shape, kernel=3, norm="bn")


@pytest.fixture
def lut(synth):
    return LookupPredictor().fit(*op_data(synth.op_table([conv(s) for s in SHAPES])).xy)


def test_exact_hits_return_the_table_value(synth, lut):
    pred, cov = lut.predict([conv(s) for s in SHAPES]), lut.coverage_of([conv(s) for s in SHAPES])
    assert pred.tolist() == [synth.true_ms(conv(s)) for s in SHAPES]
    assert cov.summary() == {"hits": 3, "interpolated": 0, "extrapolated": 0, "fallback": 0}


def test_between_measured_shapes_is_interpolated_and_reported(synth, lut):
    query = conv((1, 16, 32, 32))
    pred, cov = lut.predict([query]), lut.coverage_of([query])
    assert cov.interpolated == [query.key] and cov.hits == 0
    lo, hi = synth.true_ms(conv(SHAPES[1])), synth.true_ms(conv(SHAPES[2]))
    assert lo < pred[0] < hi
    assert pred[0] == pytest.approx(synth.true_ms(query), rel=0.3)


def test_outside_measured_shapes_warns_and_reports_extrapolation(synth, lut):
    query = conv((1, 16, 128, 128))
    with pytest.warns(UserWarning, match="extrapolated"):
        pred, cov = lut.predict([query]), lut.coverage_of([query])
    assert cov.extrapolated == [query.key]
    assert pred[0] > synth.true_ms(conv(SHAPES[2]))


def test_strict_raises_naming_the_missing_keys(lut):
    lut.strict = True
    query = conv((1, 16, 32, 32))
    with pytest.raises(MissingOpsError, match=r"strict") as err:
        lut.predict([conv(SHAPES[0]), query])
    assert err.value.keys == [query.key] and query.key in str(err.value)


def test_a_kind_without_rows_is_an_error_never_zero(lut):
    pool = OpSpec.make("pool", (1, 16, 16, 16), reduce="avg", kernel=3, stride=1)
    with pytest.raises(MissingOpsError, match="no measured row") as err:
        lut.predict([pool])
    assert pool.key in str(err.value)


def test_fallback_answers_uncovered_kinds_and_is_reported(synth):
    pools = [
        OpSpec.make("pool", (1, c, r, r), reduce="avg", kernel=3, stride=1)
        for c in (8, 16, 32)
        for r in (8, 16, 32)
    ]
    fallback = LearnedPredictor().fit(*op_data(synth.op_table(pools)).xy)
    lut = LookupPredictor(fallback=fallback).fit(
        *op_data(synth.op_table([conv(s) for s in SHAPES])).xy
    )
    query = OpSpec.make("pool", (1, 24, 12, 12), reduce="avg", kernel=3, stride=1)
    pred, cov = lut.predict([query]), lut.coverage_of([query])
    assert cov.fallback == [query.key]
    assert pred[0] == pytest.approx(synth.true_ms(query), rel=0.2) and pred[0] > 0


def test_costs_is_a_tensor_and_unfitted_use_is_an_error(synth, lut):
    t = lut.costs([conv(SHAPES[0])])
    expected = synth.true_ms(conv(SHAPES[0]))
    assert t.shape == (1,) and math.isclose(float(t[0]), expected, rel_tol=1e-6)
    with pytest.raises(NotFittedError):
        LookupPredictor().predict([conv(SHAPES[0])])


def test_estimated_and_failed_rows_are_not_fitted(synth):
    df = synth.op_table([conv(s) for s in SHAPES])
    df.loc[0, "source"] = "estimated"
    df.loc[1, "status"] = "error"
    lut = LookupPredictor().fit(*op_data(df).xy)
    assert lut.keys_ == [conv(SHAPES[2]).key]
    df["status"] = "error"
    with pytest.raises(LatbenchError, match="no measured rows"):
        LookupPredictor().fit(*op_data(df).xy)


def _leaf_block(shape):
    """A ``--leaf`` block of a model file this process never loaded: no features (it cannot
    be rebuilt here), as in ``fit`` on ``profile --model net.py:build --leaf Block``'s table."""
    return OpSpec.make(
        "submodule",
        shape,
        model="net.py:build",
        shape="x".join(map(str, shape)),
        path="b",
        inputs=("x".join(map(str, shape)) + ":float32",),
        args=("$0",),
    )


def test_ops_without_features_are_looked_up_by_key_only(synth, nb201_ops):
    """``fit`` on a table of a --leaf model (or one with ``x[x > 0]``) stopped at the first
    such op: 'cannot run at this shape (submodule: model ... is not loaded by this command)'."""
    specs = [*nb201_ops[:5], _leaf_block((1, 3, 8, 8))]
    model = LookupPredictor().fit(specs, [1.0] * len(specs))
    assert model.predict([_leaf_block((1, 3, 8, 8))])[0] == 1.0
    with pytest.raises(MissingOpsError):  # another shape: no curve to interpolate on
        model.predict([_leaf_block((1, 3, 16, 16))])
