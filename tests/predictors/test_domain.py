"""Every op predictor refuses or flags what it was not fitted on, the same way (the learned
predictor fitted on float32 inference priced a float16, a bfloat16 and a
training conv at the inference float32 value, 0.200 ms, where float16 measured 2.70 ms and
training 0.825 ms, without a word, while the lookup refused them)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from latbench.opspec import OpSpec
from latbench.predictors.base import FitDomain, OutOfDomainError, OutOfDomainWarning
from latbench.predictors.data import op_data
from latbench.predictors.learned import LearnedPredictor
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.persist import dumps, from_state_of, parse

TABLE = Path(__file__).parents[2] / "device_profiles/cpu-amd-epyc-1t/nasbench201-small.csv"
CONV = OpSpec.make("conv", (1, 16, 32, 32), out=16, kernel=3, norm="bn", act="relu", act_first=True)


@pytest.fixture(scope="module", params=["learned", "lookup"])
def model(request):
    return (LearnedPredictor() if request.param == "learned" else LookupPredictor()).fit(
        *op_data(TABLE).xy
    )


@pytest.mark.parametrize("change", [{"dtype": "float16"}, {"dtype": "bfloat16"}, {"mode": "train"}])
def test_a_dtype_or_mode_never_fitted_is_refused(model, change):
    with pytest.raises(OutOfDomainError, match=r"never fitted \(fitted: float32 / infer\)"):
        model.predict([CONV.replace(**change)])


def test_an_op_inside_the_fit_is_priced_without_a_word(model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.predict([CONV])[0] > 0


def test_a_batch_beyond_the_fit_is_flagged(model):
    with pytest.warns(OutOfDomainWarning):
        assert model.predict([CONV.replace(input_shape=(64, 16, 32, 32))])[0] > 0


def test_an_unseen_kind_is_flagged_by_the_learned_model():
    learned = LearnedPredictor().fit(*op_data(TABLE).xy)
    with pytest.warns(OutOfDomainWarning, match="op kind upsample .* not in the fit table"):
        learned.predict([OpSpec.make("upsample", (1, 16, 8, 8))])


def test_the_domain_survives_a_save_and_a_reload():
    learned = LearnedPredictor().fit(*op_data(TABLE).xy)
    again = from_state_of(parse(dumps(learned)))
    assert again.domain_ == learned.domain_
    with pytest.raises(OutOfDomainError):
        again.predict([CONV.replace(dtype="float16")])


def test_domain_ranges_per_kind():
    small = OpSpec.make("identity", (1, 8, 4, 4))
    domain = FitDomain.of([small, small.replace(input_shape=(4, 8, 4, 4))])
    refused, flagged = domain.outside(
        [
            small.replace(input_shape=(2, 8, 4, 4)),
            small.replace(input_shape=(8, 8, 4, 4)),
            small.replace(input_shape=(1, 8, 64, 64)),
        ]
    )
    assert not refused and len(flagged) == 2
    assert "batch 8 outside the fitted 1-4 of identity" in flagged.values()
