"""ST-NAS: encoder depth supernet with the L1 latency regulariser, and decoder mixed ops.

Encoder (paper Eq. 1): within a stage, block i reads α_{i−1} f_{i−1} and the stage outputs
Σ_i α_i f_i; the loss adds λ Σ_i α_i s_i with s_i block i's predicted latency. After training,
each stage is shrunk from its last block backwards while α_i < 1 (SPEC §3).
Decoder: every layer is a mixed op over the candidates, Σ_j softmax(α)_j op_j(x), with
expected latency Σ_j softmax(α)_j lat_j; the choice is the argmax.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nas.errors import SearchError

KEEP_THRESHOLD = 1.0  # ST-NAS: drop block i while α_i < 1


class DepthStage(nn.Module):
    """One encoder stage of same-shaped blocks weighted by α (initialised to 1: full depth)."""

    def __init__(self, blocks: Sequence[nn.Module], init: float = 1.0):
        super().__init__()
        if not blocks:
            raise SearchError("a DepthStage needs at least one block")
        self.blocks = nn.ModuleList(blocks)
        self.alpha = nn.Parameter(torch.full((len(blocks),), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, h = 0.0, x
        for i, block in enumerate(self.blocks):
            h = self.alpha[i] * block(h)
            out = out + h
        return out


class EncoderSupernet(nn.Module):
    """Stages of DepthStage separated by fixed modules (patch merging); ``between[k]`` runs
    before stage k (use ``nn.Identity`` where nothing does)."""

    def __init__(self, stages: Sequence[DepthStage], between: Sequence[nn.Module]):
        super().__init__()
        if len(stages) != len(between):
            raise SearchError(f"{len(stages)} stages need {len(stages)} 'between' modules, got "
                              f"{len(between)}")
        self.stages, self.between = nn.ModuleList(stages), nn.ModuleList(between)

    def alphas(self) -> torch.Tensor:
        """All block weights α, stage after stage (the order of the latency vector)."""
        return torch.cat([s.alpha for s in self.stages])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for pre, stage in zip(self.between, self.stages):
            x = stage(pre(x))
        return x


def shrink_depth(alpha: Sequence[float] | torch.Tensor, threshold: float = KEEP_THRESHOLD,
                 min_keep: int = 1) -> int:
    """Blocks kept in one stage: walk back from the last block, drop block i while
    α_i < threshold, stop at the first α_i ≥ threshold. ``min_keep`` (not in the paper, which
    does not say what an emptied stage becomes) keeps the first blocks regardless."""
    values = [float(a) for a in alpha]
    keep = len(values)
    while keep > min_keep and values[keep - 1] < threshold:
        keep -= 1
    return keep


class MixedOp(nn.Module):
    """DARTS-style mixed op: Σ_j softmax(α)_j op_j(x) over same-shaped candidates."""

    def __init__(self, candidates: Sequence[nn.Module]):
        super().__init__()
        if not candidates:
            raise SearchError("a MixedOp needs at least one candidate op")
        self.ops = nn.ModuleList(candidates)
        self.alpha = nn.Parameter(torch.zeros(len(candidates)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.softmax(self.alpha, dim=0)
        return sum(w[j] * op(x) for j, op in enumerate(self.ops))

    def choice(self) -> int:
        return int(torch.argmax(self.alpha))


class DecoderSupernet(nn.Module):
    """A chain of MixedOps (ST-NAS replaces each decoder 3D conv by supernet layers)."""

    def __init__(self, layers: Sequence[MixedOp]):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def alphas(self) -> torch.Tensor:
        """(layers, candidates) logits, the shape of the expected-latency cost matrix."""
        return torch.stack([m.alpha for m in self.layers])

    def choices(self) -> list[int]:
        return [m.choice() for m in self.layers]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x
