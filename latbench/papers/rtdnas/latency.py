"""RT-DNAS latency model (SPEC §3): soft cells, longest paths, network expectation, loss.

Cell level: node X_i mixes every (input X_j, op o) pair with one softmax over all of them
(paper Eq. 1: connections and ops are searched jointly). The latency of edge j→i is
Σ_o p_{i,j,o} Lat_o (Eq. 3); the cell's latency is the longest X_0→X_N path over those edge
latencies plus the scaling op S_cell (Eq. 4), computed exactly by dynamic programming with
``torch.max`` (a true max, not a soft one; its gradient goes to the edges of the longest path).

Network level (MS-NAS backbone): L layers × S scales; the cell at layer l leaving scale s'
is contracting (s'+1), non-scaling (s') or expanding (s'-1). β logits give, for every node, a
softmax over its legal moves; k_c^l = P(path at s' after layer l-1) · P(move) is the
probability of cell c at layer l, and L_t = Σ_l Σ_c k_c^l Lat_c (Eq. 5). One cell structure
is shared by all cells; its ops run at the scale the cell reads. A discrete cell is a
``CellChoice`` (per node its (input j, op index) pairs); ``cell_genotype`` writes it as the
genotype string of ``latbench.papers.rtdnas.space`` (``op~j+op~j|...``).

The search that uses this model (with the supernet and the GA decoding) is
``latbench.papers.rtdnas.search``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from latbench.archs.graph import longest_path as dag_longest_path
from latbench.nas.errors import SearchError
from latbench.papers.rtdnas.space import MOVES

CellChoice = list[list[tuple[int, int]]]
"""A discrete cell: for node X_i (i = 1..N), its (input j, op index) pairs."""


def cell_genotype(choice: CellChoice, op_names: Sequence[str]) -> str:
    """``choice`` as a genotype string: ``op~j+op~j|...`` per node
    (``latbench.papers.rtdnas.space``)."""
    return "|".join("+".join(f"{op_names[o]}~{j}" for j, o in node) for node in choice)


def node_probs(logits: torch.Tensor) -> torch.Tensor:
    """Joint softmax over all (input j, op o) pairs of one node: ``logits`` is (inputs, ops)."""
    return torch.softmax(logits.flatten(), dim=0).view_as(logits)


def edge_latencies(probs: torch.Tensor, op_latency_ms: torch.Tensor) -> torch.Tensor:
    """Eq. 3: latency of each edge j→i, Σ_o p_{i,j,o} Lat_o, for one node (one row per j)."""
    return probs @ op_latency_ms


def longest_path(edge_ms: list[torch.Tensor]) -> torch.Tensor:
    """Longest X_0→X_N path: ``edge_ms[i-1][j]`` is the latency of edge j→i (j < i).

    D_0 = 0, D_i = max_j (D_j + e_{j,i}); returns D_N. Exact: equals the max over all paths.
    """
    for i, e in enumerate(edge_ms, start=1):
        if e.shape != (i,):
            raise SearchError(
                f"longest_path: node {i} needs {i} incoming edge latencies, got "
                f"shape {tuple(e.shape)}"
            )
    wiring = [((j,), i) for i in range(1, len(edge_ms) + 1) for j in range(i)]
    return dag_longest_path(wiring, len(edge_ms), torch.cat(edge_ms), source=0)


class CellLatency(nn.Module):
    """The cell's architecture logits v and its expected latency at every scale (Eqs. 3-4)."""

    def __init__(self, n_nodes: int, n_ops: int):
        super().__init__()
        if n_nodes < 1 or n_ops < 1:
            raise SearchError(f"a cell needs n_nodes >= 1 and n_ops >= 1, got {n_nodes}, {n_ops}")
        self.v = nn.ParameterList(
            nn.Parameter(1e-3 * torch.randn(i, n_ops)) for i in range(1, n_nodes + 1)
        )

    def probs(self) -> list[torch.Tensor]:
        return [node_probs(v) for v in self.v]

    def forward(self, op_latency_ms: torch.Tensor) -> torch.Tensor:
        """Longest-path latency of the soft cell for each row (scale) of ``op_latency_ms``."""
        probs = self.probs()
        return torch.stack(
            [longest_path([edge_latencies(p, row) for p in probs]) for row in op_latency_ms]
        )

    def choice(self, inputs_per_node: int = 1) -> CellChoice:
        """Discrete cell: per node the ``inputs_per_node`` strongest (input, op) pairs."""
        out = []
        for v in self.v:
            k = min(inputs_per_node, v.shape[0])
            best = torch.topk(v.detach().flatten(), v.numel()).indices.tolist()
            picked: dict[int, int] = {}
            for flat in best:
                j, o = divmod(flat, v.shape[1])
                if j not in picked:
                    picked[j] = o
                if len(picked) == k:
                    break
            out.append(sorted(picked.items()))
        return out


def discrete_cell_latency(choice: CellChoice, op_latency_ms: torch.Tensor) -> torch.Tensor:
    """Longest path of a discrete cell at every scale: edges absent from ``choice`` are -inf."""
    rows = []
    for row in op_latency_ms:
        edges = []
        for i, picks in enumerate(choice, start=1):
            e = torch.full((i,), float("-inf"), dtype=row.dtype)
            for j, o in picks:
                e[j] = row[o]
            edges.append(e)
        rows.append(longest_path(edges))
    return torch.stack(rows)


def legal_moves(n_scales: int) -> torch.Tensor:
    """(S, 3) boolean mask: move t from scale s stays within 0..S-1."""
    s = torch.arange(n_scales).unsqueeze(1) + torch.tensor(MOVES).unsqueeze(0)
    return (s >= 0) & (s < n_scales)


class NetworkLatency(nn.Module):
    """Expected network latency L_t (Eq. 5) over an L-layer, S-scale MS-NAS backbone.

    ``op_latency_ms`` is (S, O): each candidate op at each scale's tensor shape;
    ``scaling_latency_ms`` is (S, 3): the scaling op of each move (expand, same, contract)
    from each scale (entries of illegal moves are ignored). Paths start at scale 0.
    """

    def __init__(
        self,
        n_layers: int,
        n_nodes: int,
        op_latency_ms: torch.Tensor,
        scaling_latency_ms: torch.Tensor,
    ):
        super().__init__()
        n_scales, n_ops = op_latency_ms.shape
        if scaling_latency_ms.shape != (n_scales, len(MOVES)):
            raise SearchError(
                f"scaling_latency_ms must be ({n_scales}, 3) for {n_scales} "
                f"scales, got {tuple(scaling_latency_ms.shape)}"
            )
        if n_layers < 1:
            raise SearchError(f"n_layers must be >= 1, got {n_layers}")
        self.n_layers, self.n_scales = n_layers, n_scales
        self.cell = CellLatency(n_nodes, n_ops)
        self.beta = nn.Parameter(torch.zeros(n_layers, n_scales, len(MOVES)))
        mask = legal_moves(n_scales)
        self.register_buffer("mask", mask)
        self.register_buffer("op_latency_ms", op_latency_ms.detach().clone())
        self.register_buffer(
            "scaling_latency_ms", torch.where(mask, scaling_latency_ms.detach(), 0.0)
        )

    def move_probs(self) -> torch.Tensor:
        """(L, S, 3) softmax over each node's legal moves."""
        logits = self.beta.masked_fill(~self.mask, float("-inf"))
        return torch.softmax(logits, dim=-1)

    def cell_probs(self) -> torch.Tensor:
        """(L, S, 3) k_c^l: probability that layer l runs the cell leaving scale s by move t."""
        q = self.move_probs()
        occ = torch.zeros(self.n_scales, dtype=q.dtype, device=q.device)
        occ[0] = 1.0
        ks = []
        for layer in range(self.n_layers):
            k = occ.unsqueeze(1) * q[layer]
            ks.append(k)
            occ = torch.stack(
                [
                    sum(k[s - m, t] for t, m in enumerate(MOVES) if 0 <= s - m < self.n_scales)
                    for s in range(self.n_scales)
                ]
            )
        return torch.stack(ks)

    def cell_latency_ms(self) -> torch.Tensor:
        """(S, 3) latency of the soft cell leaving scale s by move t (Eq. 4)."""
        inner = self.cell(self.op_latency_ms)
        return torch.where(self.mask, inner.unsqueeze(1) + self.scaling_latency_ms, 0.0)

    def forward(self) -> torch.Tensor:
        """L_t in ms, differentiable in the cell logits v and the network logits β."""
        return (self.cell_probs() * self.cell_latency_ms().unsqueeze(0)).sum()
