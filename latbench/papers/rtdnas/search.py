"""RT-DNAS: the real-time constrained differentiable search and its GA decoding (SPEC §3).

Latency model. Cell: node X_i mixes every (input X_j, op o) pair with one softmax over all of
them (Eq. 1: connections and ops are searched jointly); edge j→i costs Σ_o p_{i,j,o} Lat_o
(Eq. 3), the cell its longest X_0→X_N path over those edges plus the scaling op S_cell (Eq. 4),
exact by dynamic programming with ``torch.max`` (its gradient goes to the longest path's edges).
Network: L layers × S scales; the cell at layer l leaving scale s' is contracting (s'+1),
non-scaling (s') or expanding (s'-1); β logits give every node a softmax over its legal moves,
k_c^l = P(path at s' after layer l-1) · P(move) and L_t = Σ_l Σ_c k_c^l Lat_c (Eq. 5). One cell
structure is shared by all cells; its ops run at the scale the cell reads.

The supernet: node (l, s) = Σ_{s', t} P(move t from s') · scale_t(cell_{s'}(node(l−1, s'))), its
cells mixing their ops with the same logits v, so that L = L_a · L_t + λ e^{L_t − L_ub} (Eq. 2)
is differentiable end to end. Decoding (Sect. 2.3): a gene pool of the top paths by accumulated
move probability and the GA of ``latbench.nas.ga`` (fitness: the latency of N_l paths, under
L_ub and the minimum FPS). Every latency comes from the predictor ``model``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from latbench.architecture import longest_path as dag_longest_path
from latbench.nas.costs import cost_tensor
from latbench.nas.errors import SearchError
from latbench.nas.ga import (
    GenePool,
    GeneticAlgorithm,
    PathSelectionProblem,
    SearchResult,
    legal_paths,
)
from latbench.nas.regularizers import rtdnas_loss
from latbench.nas.synthetic import Outcome, Progress, distill
from latbench.papers import RTDNAS_GA_POOL, RTDNAS_LATENCY_UB_MS, RTDNAS_MIN_FPS
from latbench.papers.rtdnas.space import BLOCKS_PER_CELL, MOVES, OP_NAMES, CellLayout
from latbench.papers.rtdnas.space import N_LAYERS as PAPER_LAYERS
from latbench.predictors.base import CostModel
from latbench.spaces import get_space

DEFAULT_LAMBDA = 10.0
N_LAYERS, N_NODES = 3, 2  # CPU-sized backbone and cell (the paper: 10 layers, 3 blocks)

CellChoice = list[list[tuple[int, int]]]
"""A discrete cell: for node X_i (i = 1..N), its (input j, op index) pairs."""


def node_probs(logits: torch.Tensor) -> torch.Tensor:
    """Joint softmax over all (input j, op o) pairs of one node: ``logits`` is (inputs, ops)."""
    return torch.softmax(logits.flatten(), dim=0).view_as(logits)


def edge_latencies(probs: torch.Tensor, op_latency_ms: torch.Tensor) -> torch.Tensor:
    """Eq. 3: latency of each edge j→i, Σ_o p_{i,j,o} Lat_o, for one node (one row per j);
    ``op_latency_ms`` (O,) or (O, S) for S scales."""
    return probs @ op_latency_ms


def longest_path(edge_ms: list[torch.Tensor]) -> torch.Tensor:
    """Longest X_0→X_N path, D_0 = 0, D_i = max_j (D_j + e_{j,i}): ``edge_ms[i-1][j]`` is the
    latency of edge j→i (j < i), with any trailing dims (one per scale) kept in the result."""
    wiring = [((j,), i) for i in range(1, len(edge_ms) + 1) for j in range(i)]
    return dag_longest_path(wiring, len(edge_ms), torch.cat(edge_ms), source=0)


class CellLatency(nn.Module):
    """The cell's architecture logits v and its expected latency at every scale (Eqs. 3-4)."""

    def __init__(self, n_nodes: int, n_ops: int):
        super().__init__()
        self.v = nn.ParameterList(
            nn.Parameter(1e-3 * torch.randn(i, n_ops)) for i in range(1, n_nodes + 1)
        )

    def forward(self, op_latency_ms: torch.Tensor) -> torch.Tensor:
        """(S,) longest-path latency of the soft cell for each row (scale) of ``op_latency_ms``."""
        return longest_path([edge_latencies(node_probs(v), op_latency_ms.T) for v in self.v])

    def choice(self) -> CellChoice:
        """Discrete cell: per node its strongest (input, op) pair."""
        return [[divmod(int(v.detach().argmax()), v.shape[1])] for v in self.v]


def discrete_cell_latency(choice: CellChoice, op_latency_ms: torch.Tensor) -> torch.Tensor:
    """(S,) longest path of a discrete cell at every scale (row of ``op_latency_ms``)."""
    edges = [(j, i, o) for i, picks in enumerate(choice, start=1) for j, o in picks]
    cost = op_latency_ms[:, [o for _, _, o in edges]].T
    return dag_longest_path([((j,), i) for j, i, _ in edges], len(choice), cost, source=0)


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
        return torch.softmax(self.beta.masked_fill(~self.mask, float("-inf")), dim=-1)

    def cell_probs(self) -> torch.Tensor:
        """(L, S, 3) k_c^l: probability that layer l runs the cell leaving scale s by move t."""
        q = self.move_probs()  # 0 on illegal moves, so clamping their destination adds nothing
        n = self.n_scales
        dest = (torch.arange(n).unsqueeze(1) + torch.tensor(MOVES)).clamp(0, n - 1).flatten()
        occ = torch.zeros(n, dtype=q.dtype, device=q.device)
        occ[0] = 1.0
        ks = []
        for layer in range(self.n_layers):
            ks.append(occ.unsqueeze(1) * q[layer])
            occ = torch.zeros_like(occ).index_add(0, dest.to(q.device), ks[-1].flatten())
        return torch.stack(ks)

    def cell_latency_ms(self) -> torch.Tensor:
        """(S, 3) latency of the soft cell leaving scale s by move t (Eq. 4)."""
        inner = self.cell(self.op_latency_ms)
        return torch.where(self.mask, inner.unsqueeze(1) + self.scaling_latency_ms, 0.0)

    def forward(self) -> torch.Tensor:
        """L_t in ms, differentiable in the cell logits v and the network logits β."""
        return (self.cell_probs() * self.cell_latency_ms().unsqueeze(0)).sum()


class SoftCell(nn.Module):
    """X_i = Σ_{j<i} Σ_o p_{i,j,o} o(X_j) with its own copy of the ops per edge, output X_N."""

    def __init__(self, ops: Sequence[nn.Module], n_nodes: int):
        super().__init__()
        self.edges = nn.ModuleList(
            nn.ModuleList(nn.ModuleList(copy.deepcopy(op) for op in ops) for _ in range(i))
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
        self.latency = latency
        self.cells = nn.ModuleList(SoftCell(ops, n_nodes) for ops in cell_ops)
        self.scaling = nn.ModuleList(
            nn.ModuleList(m if m is not None else nn.Identity() for m in row) for row in scaling
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, v = self.latency.move_probs(), list(self.latency.cell.v)
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


def layout_costs(model: CostModel, size: str) -> tuple[CellLayout, torch.Tensor, torch.Tensor]:
    """The ``msnas`` layout at ``size``, its (S, O) candidate-op latency per scale and (S, 3)
    S_cell latency per move (``MOVES`` order; 0 where a move leaves the scales), in ms."""
    layout = get_space("msnas").layout(size)
    op_ms = torch.stack([cost_tensor(model, list(ops.values())) for ops in layout.cell_ops])
    scaling = torch.zeros(len(layout.cell_ops), len(MOVES))
    for s, per_move in enumerate(layout.scaling):
        for t, ops in enumerate(per_move):
            if ops is not None:
                scaling[s, t] = cost_tensor(model, list(ops)).sum()
    return layout, op_ms, scaling


def search_cells(
    op_ms: torch.Tensor,
    scaling_ms: torch.Tensor,
    modules: tuple[list[list[nn.Module]], list[list[nn.Module | None]]],
    input_shape: Sequence[int],
    lams: Sequence[float],
    n_layers: int = N_LAYERS,
    n_nodes: int = N_NODES,
    upper_ms: float | None = None,
    steps: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[Outcome]:
    """L = L_a · L_t + λ e^{L_t − L_ub}; teacher = the supernet with sharp random logits.
    ``modules``: candidate modules per scale and S_cell modules per (scale, move).
    ``upper_ms`` None: 0.8 × the expected latency at initialisation (so the bound binds on a
    small CPU backbone, far below the paper's 50 ms). Outcome.choice: the ``CellChoice``."""
    results = []
    for lam in lams:
        torch.manual_seed(seed)
        lat = NetworkLatency(n_layers, n_nodes, op_ms, scaling_ms)
        net = RTDNASSupernet(lat, modules[0], modules[1], n_nodes)
        ub = float(lat().detach()) * 0.8 if upper_ms is None else upper_ms
        teacher = copy.deepcopy(net).eval()
        gen = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            for p in [teacher.latency.beta, *teacher.latency.cell.v]:
                p.copy_(3.0 * torch.randn(p.shape, generator=gen))
        task_loss = distill(
            net,
            teacher,
            input_shape,
            lambda t, lat=lat, lam=lam, ub=ub: rtdnas_loss(t, lat(), lam, ub),
            lat.parameters(),
            steps,
            lr=5e-2,
            seed=seed,
            progress=progress,
            where=f"RT-DNAS cells λ={lam:g}",
        )
        choice = lat.cell.choice()
        extra = {
            "upper_ms": ub,
            "move_probs": lat.move_probs().detach(),
            "cell_ms": discrete_cell_latency(choice, op_ms),
        }
        results.append(Outcome(lam, choice, float(lat().detach()), task_loss, extra))
    return results


def pool_size(n_layers: int, n_scales: int, n_paths: int) -> int:
    """The GA's gene-pool size on an (``n_layers``, ``n_scales``) backbone: the paper's top
    ``RTDNAS_GA_POOL`` paths, or every legal path of a backbone with fewer. Raises
    ``SearchError`` when ``n_paths`` paths per individual cannot be drawn from it (checked
    before the cell search, not after)."""
    size = min(RTDNAS_GA_POOL, len(legal_paths(n_layers, n_scales)))
    if not 1 <= n_paths <= size:
        raise SearchError(f"n_paths={n_paths} must be between 1 and the pool size {size}")
    return size


def ga_decode(
    move_probs: torch.Tensor,
    cell_ms: torch.Tensor,
    scaling_ms: torch.Tensor,
    n_paths: int,
    seed: int,
    upper_ms: float = RTDNAS_LATENCY_UB_MS,
    n_gen: int | None = None,
    progress: Progress | None = None,
    min_fps: float = RTDNAS_MIN_FPS,
) -> tuple[GenePool, SearchResult]:
    """Gene pool from the (L, S, 3) move probabilities, then the GA over N_l-path individuals
    priced by the (S,) discrete cell and (S, 3) S_cell latencies, in ms.

    The pool holds the paper's top 10 paths, or every legal path of a backbone that has fewer
    (the small CPU backbones). ``n_gen`` None: the paper's 100 generations. ``min_fps`` is
    judged as 1000 / latency (batch 1); 0 leaves the latency bound alone."""
    if progress is not None:
        progress("GA decoding", 0, 1)
    n_layers, n_scales, _ = move_probs.shape
    size = pool_size(n_layers, n_scales, n_paths)
    pool = GenePool.top(move_probs.numpy().astype(np.float64), size)
    per_cell = torch.where(legal_moves(n_scales), cell_ms.unsqueeze(1) + scaling_ms, 0.0)
    cells = np.broadcast_to(per_cell.numpy(), (n_layers, *per_cell.shape))
    problem = PathSelectionProblem(pool, cells, n_paths, upper_ms=upper_ms, min_fps=min_fps)
    algorithm = GeneticAlgorithm() if n_gen is None else GeneticAlgorithm(n_gen=n_gen)
    decoded = algorithm.run(problem, seed)
    if progress is not None:
        progress("GA decoding", 1, 1)
    return pool, decoded


@dataclass
class RtdnasResult:
    """Cell runs (λ = 0 first; one synthetic run for ``ga`` alone), the GA's pool and result,
    the bound and FPS floor the GA used."""

    runs: list[Outcome]
    pool: GenePool
    decoded: SearchResult
    upper_ms: float
    n_paths: int
    min_fps: float = RTDNAS_MIN_FPS

    def genotype(self, run: Outcome) -> str:
        """A run's cell as a genotype string (``op~j+op~j|...``, as in the ``msnas`` space)."""
        return "|".join("+".join(f"{OP_NAMES[o]}~{j}" for j, o in node) for node in run.choice)


def _decoded(
    runs: list[Outcome],
    scaling_ms: torch.Tensor,
    n_paths: int,
    seed: int,
    upper_ms: float | None,
    progress: Progress | None,
    min_fps: float,
) -> RtdnasResult:
    """The last run's move probabilities and cell decoded by the GA (None: the paper's L_ub)."""
    ub = RTDNAS_LATENCY_UB_MS if upper_ms is None else upper_ms
    extra = runs[-1].extra
    pool, decoded = ga_decode(
        extra["move_probs"],
        extra["cell_ms"],
        scaling_ms,
        n_paths,
        seed,
        ub,
        None,
        progress,
        min_fps,
    )
    return RtdnasResult(runs, pool, decoded, ub, n_paths, min_fps)


def search(
    model: CostModel,
    size: str = "small",
    lam: float = DEFAULT_LAMBDA,
    upper_ms: float | None = None,
    n_paths: int = 3,
    steps: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
    min_fps: float = RTDNAS_MIN_FPS,
) -> RtdnasResult:
    """Cells searched with and without the latency term, then the λ run decoded by the GA
    (under ``upper_ms``, default the paper's 50 ms, and ``min_fps``, default 22 FPS)."""
    layout, op_ms, scaling_ms = layout_costs(model, size)
    pool_size(N_LAYERS, len(layout.cell_ops), n_paths)
    torch.manual_seed(seed)  # the candidates' initial weights, which the teacher shares
    modules = (
        [[s.build() for s in ops.values()] for ops in layout.cell_ops],
        [
            [nn.Sequential(*(o.build() for o in ops)) if ops is not None else None for ops in row]
            for row in layout.scaling
        ],
    )
    runs = search_cells(
        op_ms,
        scaling_ms,
        modules,
        layout.input_shape,
        [0.0, lam],
        upper_ms=upper_ms,
        steps=steps,
        seed=seed,
        progress=progress,
    )
    return _decoded(runs, scaling_ms, n_paths, seed, upper_ms, progress, min_fps)


def ga(
    model: CostModel,
    size: str = "small",
    upper_ms: float | None = None,
    n_paths: int = 3,
    seed: int = 0,
    progress: Progress | None = None,
    min_fps: float = RTDNAS_MIN_FPS,
) -> RtdnasResult:
    """The GA alone on the paper's 10-layer backbone and 3-block cell, with network weights β
    and cell logits drawn from a seeded RNG (synthetic, not trained); latencies from ``model``."""
    layout, op_ms, scaling_ms = layout_costs(model, size)
    pool_size(PAPER_LAYERS, len(layout.cell_ops), n_paths)
    torch.manual_seed(seed)
    lat = NetworkLatency(PAPER_LAYERS, BLOCKS_PER_CELL, op_ms, scaling_ms)
    with torch.no_grad():
        for p in [lat.beta, *lat.cell.v]:
            p.normal_(0, 1.0)
    choice = lat.cell.choice()
    extra = {
        "synthetic": True,
        "move_probs": lat.move_probs().detach(),
        "cell_ms": discrete_cell_latency(choice, op_ms),
    }
    runs = [Outcome(0.0, choice, float(lat().detach()), None, extra)]
    return _decoded(runs, scaling_ms, n_paths, seed, upper_ms, progress, min_fps)
