"""The RT-DNAS supernet forward: soft cells on every scale of an L × S grid.

Node (l, s) = Σ_{s', t} P(move t from s') · scale_t(cell_{s'}(node(l−1, s'))), where the cell
at scale s' mixes its candidate ops with the same logits v as ``CellLatency`` (Eq. 1) and the
move probabilities are ``NetworkLatency.move_probs`` — so the task loss and L_t share the
architecture parameters and L = L_a · L_t + λ e^{L_t − L_ub} is differentiable end to end.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from latbench.nas.errors import SearchError
from latbench.papers.rtdnas.latency import MOVES, NetworkLatency, node_probs


class SoftCell(nn.Module):
    """X_i = Σ_{j<i} Σ_o p_{i,j,o} o(X_j) with fresh op modules per edge, output X_N."""

    def __init__(self, make_ops: Sequence[nn.Module], n_nodes: int):
        super().__init__()
        self.edges = nn.ModuleList(
            nn.ModuleList(nn.ModuleList(_clone(op) for op in make_ops) for _ in range(i))
            for i in range(1, n_nodes + 1)
        )

    def forward(self, x: torch.Tensor, v: Sequence[torch.Tensor]) -> torch.Tensor:
        nodes = [x]
        for i, (edges, logits) in enumerate(zip(self.edges, v), start=1):
            p = node_probs(logits)
            nodes.append(
                sum(p[j, o] * op(nodes[j]) for j in range(i) for o, op in enumerate(edges[j]))
            )
        return nodes[-1]


def _clone(module: nn.Module) -> nn.Module:
    """An independent copy of a candidate op (each edge has its own weights)."""
    return copy.deepcopy(module)


class RTDNASSupernet(nn.Module):
    """Cells per scale (``cell_ops[s]``: candidate modules at scale s) and scaling modules
    (``scaling[s][t]`` for move t from scale s, None where illegal), driven by ``latency``."""

    def __init__(
        self,
        latency: NetworkLatency,
        cell_ops: Sequence[Sequence[nn.Module]],
        scaling: Sequence[Sequence[nn.Module | None]],
        n_nodes: int,
    ):
        super().__init__()
        if len(cell_ops) != latency.n_scales or len(scaling) != latency.n_scales:
            raise SearchError(
                f"need cell ops and scaling ops for {latency.n_scales} scales, got "
                f"{len(cell_ops)} and {len(scaling)}"
            )
        self.latency = latency
        self.cells = nn.ModuleList(SoftCell(ops, n_nodes) for ops in cell_ops)
        self.scaling = nn.ModuleList(
            nn.ModuleList(m if m is not None else nn.Identity() for m in row) for row in scaling
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.latency.move_probs()
        v = list(self.latency.cell.v)
        nodes: dict[int, torch.Tensor] = {0: x}
        for layer in range(self.latency.n_layers):
            nxt: dict[int, torch.Tensor] = {}
            for s, h in nodes.items():
                y = self.cells[s](h, v)
                for t, m in enumerate(MOVES):
                    if self.latency.mask[s, t]:
                        out = q[layer, s, t] * self.scaling[s][t](y)
                        nxt[s + m] = nxt[s + m] + out if s + m in nxt else out
            nodes = nxt
        return nodes[0]
