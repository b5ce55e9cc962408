"""RT-DNAS: the real-time constrained differentiable search and its GA decoding.

Differentiable part (RT-DNAS Eq. 2): L = L_a · L_t + λ e^{L_t − L_ub}, with L_t the expected
network latency of ``latbench.papers.rtdnas.latency`` (soft cells, exact longest path, Eq. 3-5) and the
task loss from the supernet of ``latbench.papers.rtdnas.supernet``. Decoding (Sect. 2.3): a gene pool of
the top paths by accumulated move probability, and the genetic algorithm of ``latbench.nas.ga`` whose
fitness is the network latency of an individual of N_l paths, under L_ub and the minimum FPS.

``search(model, size)`` runs both on the ``msnas`` space's layout (CPU-sized synthetic data,
``latbench.nas.synthetic``), λ = 0 next to λ > 0; ``ga(model, size)`` runs the GA alone on seeded random
network weights. Every latency comes from the predictor ``model``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from latbench.nas.costs import cost_tensor
from latbench.nas.ga import GenePool, GeneticAlgorithm, PathSelectionProblem, SearchResult
from latbench.nas.ga.paths import POOL_SIZE, legal_paths
from latbench.nas.regularizers import rtdnas_loss
from latbench.nas.synthetic import Outcome, Progress, distill, step_reporter
from latbench.papers import RTDNAS_LATENCY_UB_MS, RTDNAS_MIN_FPS
from latbench.papers.rtdnas.latency import (
    CellChoice,
    CellLatency,
    NetworkLatency,
    cell_genotype,
    discrete_cell_latency,
    edge_latencies,
    legal_moves,
    longest_path,
    node_probs,
)
from latbench.papers.rtdnas.space import BLOCKS_PER_CELL, MOVES, CellLayout
from latbench.papers.rtdnas.space import N_LAYERS as PAPER_LAYERS
from latbench.papers.rtdnas.supernet import RTDNASSupernet
from latbench.predictors.base import CostModel
from latbench.spaces import get_space

__all__ = [
    "CellChoice",
    "CellLatency",
    "NetworkLatency",
    "RtdnasResult",
    "cell_genotype",
    "discrete_cell_latency",
    "edge_latencies",
    "ga",
    "ga_decode",
    "layout_costs",
    "legal_moves",
    "longest_path",
    "node_probs",
    "search",
    "search_cells",
]

DEFAULT_LAMBDA = 10.0
N_LAYERS, N_NODES = 3, 2  # CPU-sized backbone and cell (the paper: 10 layers, 3 blocks)


def layout_costs(model: CostModel, layout: CellLayout) -> tuple[torch.Tensor, torch.Tensor]:
    """(S, O) candidate-op latency per scale and (S, 3) S_cell latency per move (``MOVES``
    order; 0 where a move leaves the scales), in ms, from ``model``."""
    op_ms = torch.stack([cost_tensor(model, list(ops.values())) for ops in layout.cell_ops])
    scaling = torch.zeros(len(layout.cell_ops), len(MOVES))
    for s, per_move in enumerate(layout.scaling):
        for t, ops in enumerate(per_move):
            if ops is not None:
                scaling[s, t] = cost_tensor(model, list(ops)).sum()
    return op_ms, scaling


def layout_modules(
    layout: CellLayout,
) -> tuple[list[list[nn.Module]], list[list[nn.Module | None]]]:
    """Candidate modules per scale and S_cell modules per (scale, move), for the supernet."""
    cells = [[s.build() for s in ops.values()] for ops in layout.cell_ops]
    scaling = [
        [nn.Sequential(*(o.build() for o in ops)) if ops is not None else None for ops in per_move]
        for per_move in layout.scaling
    ]
    return cells, scaling


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
        shape = tuple(input_shape)
        log = distill(
            net,
            teacher,
            lambda g: torch.randn(shape, generator=g),
            lambda t: rtdnas_loss(t, lat(), lam, ub),
            lat.parameters(),
            steps,
            lr=5e-2,
            seed=seed,
            on_step=step_reporter(progress, f"cells λ={lam:g}"),
            where=f"RT-DNAS cell search λ={lam:g}",
        )
        choice = lat.cell.choice()
        results.append(
            Outcome(
                lam,
                choice,
                float(lat().detach()),
                log.task[-1],
                {
                    "upper_ms": ub,
                    "move_probs": lat.move_probs().detach(),
                    "cell_ms": discrete_cell_latency(choice, op_ms),
                },
            )
        )
    return results


def ga_decode(
    move_probs: torch.Tensor,
    cell_ms: torch.Tensor,
    scaling_ms: torch.Tensor,
    mask: torch.Tensor,
    n_paths: int,
    seed: int,
    upper_ms: float = RTDNAS_LATENCY_UB_MS,
    min_fps: float = RTDNAS_MIN_FPS,
    fixed_ms: float = 0.0,
    n_gen: int | None = None,
) -> tuple[GenePool, SearchResult]:
    """Gene pool from the move probabilities, then the GA over N_l-path individuals.

    The pool holds the paper's top 10 paths, or every legal path of a backbone that has fewer
    (the small CPU backbones). ``n_gen`` None: the paper's 100 generations."""
    n_layers, n_scales, _ = move_probs.shape
    size = min(POOL_SIZE, len(legal_paths(n_layers, n_scales)))
    pool = GenePool.top(move_probs.numpy().astype(np.float64), size)
    per_cell = torch.where(mask, cell_ms.unsqueeze(1) + scaling_ms, 0.0).numpy()
    cells = np.broadcast_to(per_cell, (move_probs.shape[0], *per_cell.shape))
    problem = PathSelectionProblem(
        pool, cells, n_paths, fixed_ms=fixed_ms, upper_ms=upper_ms, min_fps=min_fps
    )
    algorithm = GeneticAlgorithm() if n_gen is None else GeneticAlgorithm(n_gen=n_gen)
    return pool, algorithm.run(problem, seed)


@dataclass
class RtdnasResult:
    """Cell runs (λ = 0 first; empty for ``ga`` alone), the GA's pool and result, the bound
    and FPS floor the GA used, and the op names the cell choices index."""

    runs: list[Outcome]
    pool: GenePool
    decoded: SearchResult
    upper_ms: float
    min_fps: float
    n_paths: int
    op_names: tuple[str, ...]

    def genotype(self, run: Outcome) -> str:
        """A run's cell as a genotype string (``latbench.papers.rtdnas.space`` format)."""
        return cell_genotype(run.choice, self.op_names)


def search(
    model: CostModel,
    size: str = "small",
    lam: float = DEFAULT_LAMBDA,
    upper_ms: float | None = None,
    n_paths: int = 3,
    steps: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
) -> RtdnasResult:
    """Cells searched with and without the latency term, then the λ run decoded by the GA
    (under ``upper_ms``, default the paper's 50 ms, and 22 FPS)."""
    layout = get_space("msnas").layout(size)
    op_ms, scaling_ms = layout_costs(model, layout)
    runs = search_cells(
        op_ms,
        scaling_ms,
        layout_modules(layout),
        layout.input_shape,
        [0.0, lam],
        upper_ms=upper_ms,
        steps=steps,
        seed=seed,
        progress=progress,
    )
    ub = RTDNAS_LATENCY_UB_MS if upper_ms is None else upper_ms
    last = runs[-1]
    pool, decoded = _decode(
        last.extra["move_probs"], last.extra["cell_ms"], scaling_ms, n_paths, seed, ub, progress
    )
    return RtdnasResult(runs, pool, decoded, ub, RTDNAS_MIN_FPS, n_paths, layout.op_names)


def ga(
    model: CostModel,
    size: str = "small",
    upper_ms: float | None = None,
    n_paths: int = 3,
    seed: int = 0,
    progress: Progress | None = None,
) -> RtdnasResult:
    """The GA alone on the paper's 10-layer backbone and 3-block cell, with network weights β
    and cell logits drawn from a seeded RNG (synthetic, not trained); latencies from ``model``."""
    layout = get_space("msnas").layout(size)
    op_ms, scaling_ms = layout_costs(model, layout)
    torch.manual_seed(seed)
    lat = NetworkLatency(PAPER_LAYERS, BLOCKS_PER_CELL, op_ms, scaling_ms)
    with torch.no_grad():
        lat.beta.normal_(0, 1.0)
        for v in lat.cell.v:
            v.normal_(0, 1.0)
    choice = lat.cell.choice()
    ub = RTDNAS_LATENCY_UB_MS if upper_ms is None else upper_ms
    pool, decoded = _decode(
        lat.move_probs().detach(),
        discrete_cell_latency(choice, op_ms),
        scaling_ms,
        n_paths,
        seed,
        ub,
        progress,
    )
    run = Outcome(0.0, choice, float(lat().detach()), None, {"synthetic": True})
    return RtdnasResult([run], pool, decoded, ub, RTDNAS_MIN_FPS, n_paths, layout.op_names)


def _decode(
    move_probs: torch.Tensor,
    cell_ms: torch.Tensor,
    scaling_ms: torch.Tensor,
    n_paths: int,
    seed: int,
    upper_ms: float,
    progress: Progress | None,
) -> tuple[GenePool, SearchResult]:
    if progress is not None:
        progress("GA decoding", 0, 1)
    out = ga_decode(
        move_probs,
        cell_ms,
        scaling_ms,
        legal_moves(cell_ms.shape[0]),
        n_paths,
        seed,
        upper_ms=upper_ms,
    )
    if progress is not None:
        progress("GA decoding", 1, 1)
    return out
