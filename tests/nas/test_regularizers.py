"""Regularisers: values against hand-computed examples, gradients to the architecture params."""

from __future__ import annotations

import math

import pytest
import torch

from latbench.nas.errors import SearchError
from latbench.nas.regularizers import cost_lasso, expected_latency, l1_latency, rtdnas_loss


def test_l1_latency_value_and_gradient():
    alpha = torch.tensor([1.5, -0.5, 2.0], requires_grad=True)
    s = torch.tensor([2.0, 4.0, 1.0])
    value = 0.1 * l1_latency(alpha, s)
    assert value.item() == pytest.approx(0.1 * (3.0 + 2.0 + 2.0))
    value.backward()
    assert alpha.grad.tolist() == pytest.approx([0.2, -0.4, 0.1])  # λ s_i sign(α_i)


def test_expected_latency_value_and_gradient():
    logits = torch.tensor([[0.0, math.log(3.0)]], requires_grad=True)  # softmax = (1/4, 3/4)
    lat = torch.tensor([[4.0, 8.0]])
    value = expected_latency(logits, lat)
    assert value.item() == pytest.approx(0.25 * 4 + 0.75 * 8)
    value.backward()
    # d/dα_j Σ p lat = p_j (lat_j − E[lat]) = (1/4)(4−7), (3/4)(8−7)
    assert logits.grad[0].tolist() == pytest.approx([-0.75, 0.75])


def test_expected_latency_broadcasts_one_cost_row_over_layers():
    logits = torch.zeros(4, 2, requires_grad=True)
    assert expected_latency(logits, torch.tensor([1.0, 3.0])).item() == pytest.approx(4 * 2.0)


def test_rtdnas_loss_value_and_gradient():
    la = torch.tensor(0.5)
    lt = torch.tensor(52.0, requires_grad=True)
    loss = rtdnas_loss(la, lt, lam=2.0, upper_ms=50.0)
    assert loss.item() == pytest.approx(0.5 * 52 + 2 * math.exp(2.0))
    loss.backward()
    assert lt.grad.item() == pytest.approx(0.5 + 2 * math.exp(2.0))


def test_cost_lasso_value_gradient_and_broadcast():
    alpha = torch.tensor([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]], requires_grad=True)
    beta = torch.tensor([9 / 13, 3 / 13, 1 / 13])
    value = cost_lasso(alpha, beta, lam=1e-4)
    assert value.item() == pytest.approx(1e-4 * (4.5 + 3 + 2 + 9 + 3 + 1) / 13)
    value.backward()
    assert alpha.grad[0].tolist() == pytest.approx([1e-4 * 9 / 13, -1e-4 * 3 / 13, 1e-4 / 13])


def test_shape_mismatch_is_named():
    with pytest.raises(SearchError, match=r"l1_latency: .* \(3,\) do not end in .* \(2,\)"):
        l1_latency(torch.ones(3), torch.ones(2))
    with pytest.raises(SearchError, match=r"cost_lasso: .* \(4, 3\) do not end in .* \(2,\)"):
        cost_lasso(torch.ones(4, 3), torch.ones(2))
    with pytest.raises(SearchError, match="expected_latency"):
        expected_latency(torch.ones(3), torch.ones(2, 3))
