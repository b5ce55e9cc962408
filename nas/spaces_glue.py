"""Op lists of the paper spaces (``latbench.spaces``) arranged as the searches need them."""

from __future__ import annotations

import torch
from torch import nn

from latbench.opspec import OpSpec
from nas.costs import cost_tensor
from nas.rtdnas import MOVES
from predictors.base import CostModel

_MSNAS_TYPE = {-1: "expanding", 0: "non_scaling", 1: "contracting"}


def stnas_encoder_layout(size: str) -> tuple[list[list[OpSpec]], list[OpSpec | None]]:
    """Blocks per stage and the op before each stage (patch embedding, patch merging)."""
    from latbench.spaces import stnas_encoder as enc

    n = len(enc.stage_shapes(size))
    stages = [enc.stage_blocks(s, size) for s in range(n)]
    between = [enc.stem_op(size)] + [enc.merge_op(s, size) for s in range(n - 1)]
    return stages, between


def stnas_decoder_layers(size: str) -> tuple[list[list[OpSpec]], list[str]]:
    """The 7 candidates of every decoder supernet layer, and their names."""
    from latbench.spaces import stnas_decoder as dec

    layers = [list(dec.layer_ops(d, size).values()) for d in dec.layer_dilations(size)]
    return layers, list(dec.layer_ops(dec.layer_dilations(size)[0], size))


def cakes_candidates(size: str, scale: int = 0) -> tuple[list[OpSpec], list[str]]:
    from latbench.spaces import cakes as space

    ops = space.subkernel_ops(scale, size)
    return list(ops.values()), list(ops)


def msnas_costs(model: CostModel, size: str) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """(S, O) candidate-op latency and (S, 3) scaling latency (moves in ``MOVES`` order)."""
    from latbench.spaces import msnas as space

    n_scales = len(space.scales(size))
    names = list(space.cell_ops(0, size))
    op_ms = torch.stack([cost_tensor(model, list(space.cell_ops(s, size).values()))
                         for s in range(n_scales)])
    scaling = torch.zeros(n_scales, len(MOVES))
    for s in range(n_scales):
        for t, m in enumerate(MOVES):
            if 0 <= s + m < n_scales:
                scaling[s, t] = cost_tensor(model, space.scaling_ops(_MSNAS_TYPE[m], s, size)).sum()
    return op_ms, scaling, names


def msnas_modules(size: str) -> tuple[list[list[nn.Module]], list[list[nn.Module | None]]]:
    """Candidate modules per scale and scaling modules per (scale, move), for the supernet."""
    from latbench.spaces import msnas as space

    n_scales = len(space.scales(size))
    cells = [[s.build() for s in space.cell_ops(sc, size).values()] for sc in range(n_scales)]
    scaling = [[nn.Sequential(*(o.build() for o in space.scaling_ops(_MSNAS_TYPE[m], sc, size)))
                if 0 <= sc + m < n_scales else None for m in MOVES] for sc in range(n_scales)]
    return cells, scaling
