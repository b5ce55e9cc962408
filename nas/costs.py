"""Costs for the searches, asked of a predictor once per op list and checked; nothing in
``nas/`` knows a latency by heart."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from latbench.nas.errors import CostError
from latbench.opspec import OpSpec
from latbench.predictors.base import CostModel


def cost_tensor(model: CostModel, specs: Sequence[OpSpec]) -> torch.Tensor:
    """``model.costs(specs)`` as a float32 CPU tensor, checked: one finite, non-negative latency
    in ms per spec (``CostError`` otherwise, and for a model predicting in another unit, so that
    a memory model is never used as a latency model by mistake)."""
    specs = list(specs)
    if getattr(model, "unit", "ms") != "ms":
        raise CostError(
            f"cost model {type(model).__name__} predicts in {model.unit!r}; this search needs 'ms'"
        )
    costs = torch.as_tensor(model.costs(specs), dtype=torch.float32).reshape(-1)
    if costs.numel() != len(specs):
        raise CostError(f"cost model returned {costs.numel()} costs for {len(specs)} specs")
    bad = [specs[i].key for i in torch.nonzero(~torch.isfinite(costs) | (costs < 0)).flatten()]
    if bad:
        raise CostError(
            f"cost model gave no usable (finite, >= 0) cost for {len(bad)} spec(s), "
            f"e.g. {bad[0]!r}; profile them first (latbench profile) or use a "
            "predictor that covers them"
        )
    return costs.detach()


def normalized(costs: torch.Tensor) -> torch.Tensor:
    """``costs`` divided by their mean, so that a regulariser weight means the same on a slow
    and on a fast device (equivalent to rescaling λ; the paper formulas are unchanged)."""
    mean = costs.mean()
    if not torch.isfinite(mean) or mean <= 0:
        raise CostError(f"cannot normalise costs with mean {float(mean)!r}; need a positive mean")
    return costs / mean
