"""ST-NAS: Eq. 1 forward by hand, depth shrinking rule, mixed ops, gradients of the regularisers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from latbench.nas.errors import SearchError
from latbench.nas.regularizers import expected_latency, l1_latency
from latbench.papers.stnas.search import (
    DecoderSupernet,
    DepthStage,
    EncoderSupernet,
    MixedOp,
    shrink_depth,
)


class Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.factor * x


def test_depth_stage_is_eq1_by_hand():
    stage = DepthStage([Scale(2.0), Scale(3.0)])
    with torch.no_grad():
        stage.alpha.copy_(torch.tensor([0.5, 2.0]))
    # f1 = 2x, h1 = 0.5*2x = x; f2 = 3*h1 = 3x; out = α1 f1 + α2 f2 = x + 6x
    assert stage(torch.tensor([1.0])).item() == pytest.approx(7.0)


@pytest.mark.parametrize(
    "alpha, kept",
    [
        ([1.2, 0.9, 1.1, 0.5, 0.2], 3),  # drop 0.2, 0.5; stop at 1.1 (0.9 inside is kept)
        ([1.0, 1.0], 2),  # α = 1 is kept
        ([0.3, 0.2], 1),  # min_keep keeps the first block
    ],
)
def test_shrink_depth(alpha, kept):
    assert shrink_depth(alpha) == kept


def test_shrink_depth_min_keep_zero_empties_stage():
    assert shrink_depth([0.3, 0.2], min_keep=0) == 0


def test_l1_regulariser_gradient_reaches_encoder_alphas():
    enc = EncoderSupernet(
        [DepthStage([Scale(1.0)] * 2), DepthStage([Scale(1.0)] * 3)], [nn.Identity(), nn.Identity()]
    )
    s = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    (0.5 * l1_latency(enc.alphas(), s)).backward()
    grads = torch.cat([st.alpha.grad for st in enc.stages])
    assert grads.tolist() == pytest.approx((0.5 * s).tolist())


def test_mixed_op_forward_choice_and_expected_latency_gradient():
    layer = MixedOp([Scale(1.0), Scale(3.0)])
    assert layer(torch.tensor([2.0])).item() == pytest.approx(0.5 * 2 + 0.5 * 6)
    dec = DecoderSupernet([layer, MixedOp([Scale(1.0), Scale(3.0)])])
    value = expected_latency(dec.alphas(), torch.tensor([1.0, 5.0]))
    assert value.item() == pytest.approx(2 * 3.0)
    value.backward()
    # softmax (1/2, 1/2): dE/dα = p (lat − E) = (−1, +1)
    assert layer.alpha.grad.tolist() == pytest.approx([-1.0, 1.0])
    with torch.no_grad():
        layer.alpha.copy_(torch.tensor([0.0, 1.0]))
    assert dec.choices() == [1, 0]


def test_errors_name_the_problem():
    with pytest.raises(SearchError, match="2 stages need 2"):
        EncoderSupernet([DepthStage([Scale(1.0)])] * 2, [nn.Identity()])
    with pytest.raises(SearchError, match="at least one"):
        MixedOp([])


def test_a_decoder_model_that_cannot_price_the_decoder_fails_before_the_encoder_search(
    monkeypatch,
):
    """A wrong decoder predictor failed only after the whole encoder search had run."""
    from latbench.papers.stnas import search
    from latbench.predictors.learned import FlopsCost

    class MsFlops(FlopsCost):
        unit = "ms"

    class Unpriced(MsFlops):
        def predict(self, ops):
            raise SearchError("decoder op not in the table")

    def ran(*args, **kwargs):
        raise AssertionError("the encoder search ran")

    monkeypatch.setattr(search, "search_encoder", ran)
    with pytest.raises(SearchError, match="decoder op not in the table"):
        search.search(MsFlops(), "small", decoder_model=Unpriced())
