"""CAKES: β from parameters equals the paper's 9/13, 3/13, 1/13; lasso gradients; choices."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from latbench.nas.errors import SearchError
from latbench.nas.regularizers import cost_lasso
from latbench.opspec import OpSpec
from latbench.papers.cakes.search import (
    ChannelwiseKernelMix,
    beta_from_costs,
    beta_from_params,
    channelwise_latency_ms,
)
from latbench.papers.cakes.space import SUBKERNELS as SUB_KERNELS
from latbench.papers.cakes.space import subkernel_dims as kernel_dims


def _specs(channels: int = 4) -> list[OpSpec]:
    return [OpSpec.make("conv", (1, channels, 4, 4, 4), kernel=list(k)) for k in SUB_KERNELS]


def test_beta_from_params_is_the_papers():
    beta = beta_from_params(_specs())
    expected = [
        1 / 13 if kernel_dims(k) == 1 else 3 / 13 if kernel_dims(k) == 2 else 9 / 13
        for k in SUB_KERNELS
    ]
    assert beta.tolist() == pytest.approx(expected)


def test_beta_from_latency_is_proportional():
    lat = torch.tensor([1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 7.0])
    beta = beta_from_costs(lat, SUB_KERNELS)
    assert beta.tolist() == pytest.approx((lat / 10.0).tolist())
    with pytest.raises(SearchError, match="6 costs for 7"):
        beta_from_costs(lat[:6], SUB_KERNELS)


def test_lasso_gradient_reaches_channelwise_alpha_and_output_shape():
    specs = _specs()
    layer = ChannelwiseKernelMix([s.build() for s in specs], out_channels=4)
    y = layer(torch.randn(1, 4, 4, 4, 4))
    assert y.shape == (1, 4, 4, 4, 4)
    beta = beta_from_params(specs)
    cost_lasso(layer.alpha, beta, lam=0.1).backward()
    assert layer.alpha.grad[2].tolist() == pytest.approx((0.1 * beta).tolist())  # α = 1 > 0


def test_choices_and_latency_estimate():
    layer = ChannelwiseKernelMix([nn.Identity()] * 3, out_channels=4)
    with torch.no_grad():
        layer.alpha.copy_(
            torch.tensor([[1, 0, 0], [0, -2, 1], [0, 0, 3], [0, 0, 1]], dtype=torch.float32)
        )
    choices = layer.choices()
    assert choices.tolist() == [0, 1, 2, 2]
    assert channelwise_latency_ms(choices, torch.tensor([1.0, 2.0, 4.0])) == pytest.approx(
        0.25 * 1 + 0.25 * 2 + 0.5 * 4
    )
