"""Differentiable latency/cost regularisers of the papers (SPEC §3). A ``cost`` (constants
from a predictor) has the architecture parameters' shape or their trailing dims, in any unit:
the searches pass latencies divided by their mean (``latbench.nas.costs.normalized``), which only
rescales λ; RT-DNAS' bound L_ub is in ms, so its loss takes latencies in ms.
"""

from __future__ import annotations

import torch

from latbench.nas.errors import SearchError
from latbench.papers import CAKES_LAMBDA, RTDNAS_LATENCY_UB_MS


def _check(params: torch.Tensor, cost: torch.Tensor, what: str) -> None:
    if cost.dim() > params.dim() or params.shape[params.dim() - cost.dim() :] != cost.shape:
        raise SearchError(
            f"{what}: architecture parameters of shape {tuple(params.shape)} do not end in "
            f"the shape {tuple(cost.shape)} of the costs"
        )


def _weighted_abs(alpha: torch.Tensor, cost: torch.Tensor, what: str) -> torch.Tensor:
    _check(alpha, cost, what)
    return (alpha.abs() * cost).sum()


def l1_latency(alpha: torch.Tensor, cost: torch.Tensor) -> torch.Tensor:
    """ST-NAS encoder term Σ_i |α_i| s_i (= Σ α_i s_i for the paper's non-negative α);
    ``cost`` holds s_i."""
    return _weighted_abs(alpha, cost, "l1_latency")


def expected_latency(logits: torch.Tensor, cost: torch.Tensor) -> torch.Tensor:
    """Expected cost of mixed ops, Σ_j softmax(α)_j c_j along the last dim, summed over
    layers (ST-NAS decoder, DARTS-style mixed op)."""
    _check(logits, cost, "expected_latency")
    return (torch.softmax(logits, dim=-1) * cost).sum()


def cost_lasso(alpha: torch.Tensor, beta: torch.Tensor, lam: float = CAKES_LAMBDA) -> torch.Tensor:
    """CAKES Eq. 13 penalty λ Σ_i β_i |α_i|."""
    return lam * _weighted_abs(alpha, beta, "cost_lasso")


RTDNAS_EXP_CAP_MS = 20.0
"""How far over L_ub (ms) RT-DNAS' penalty is the paper's exponential; beyond, its tangent."""


def rtdnas_penalty(
    latency_ms: torch.Tensor, upper_ms: float = RTDNAS_LATENCY_UB_MS
) -> torch.Tensor:
    """e^{L_t − L_ub} (RT-DNAS Eq. 2) while L_t − L_ub ≤ ``RTDNAS_EXP_CAP_MS``, and its tangent
    line beyond, e^c (1 + L_t − L_ub − c), c = 20 ms: the paper's value and gradient within 20 ms
    over the bound; further out it still grows (gradient e^20 dominates L_a) but never overflows
    float32 (plain e^x does from L_t − L_ub ≈ 88 ms, and 0 · inf is NaN at λ = 0)."""
    over = latency_ms - upper_ms
    capped = torch.clamp(over, max=RTDNAS_EXP_CAP_MS)
    return torch.exp(capped) * (1.0 + (over - capped))


def rtdnas_loss(
    task_loss: torch.Tensor,
    latency_ms: torch.Tensor,
    lam: float,
    upper_ms: float = RTDNAS_LATENCY_UB_MS,
) -> torch.Tensor:
    """RT-DNAS Eq. 2: L = L_a · L_t + λ · e^{L_t − L_ub}, latencies in ms; the exponential is
    ``rtdnas_penalty`` (exact to 20 ms over the bound, linear beyond, so it cannot overflow)."""
    return task_loss * latency_ms + lam * rtdnas_penalty(latency_ms, upper_ms)
