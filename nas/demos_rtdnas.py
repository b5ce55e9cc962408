"""CPU-sized RT-DNAS runs: the differentiable search (λ vs λ = 0) and the GA decoding."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from nas.demos import Outcome
from nas.ga import GenePool, GeneticAlgorithm, PathSelectionProblem, SearchResult
from nas.ga.paths import POOL_SIZE, legal_paths
from nas.regularizers import RTDNAS_LATENCY_UB_MS, rtdnas_loss
from nas.rtdnas import NetworkLatency, discrete_cell_latency
from nas.rtdnas_supernet import RTDNASSupernet
from nas.synthetic import distill


def rtdnas(op_ms: torch.Tensor, scaling_ms: torch.Tensor,
           modules: tuple[list[list[nn.Module]], list[list[nn.Module | None]]],
           input_shape: Sequence[int], lams: Sequence[float], n_layers: int = 3,
           n_nodes: int = 2, upper_ms: float | None = None, steps: int = 20,
           seed: int = 0) -> list[Outcome]:
    """L = L_a · L_t + λ e^{L_t − L_ub}; teacher = the supernet with sharp random logits.
    ``upper_ms`` None: 0.8 × the expected latency at initialisation (so the bound binds)."""
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
        log = distill(net, teacher, lambda g: torch.randn(shape, generator=g),
                      lambda t: rtdnas_loss(t, lat(), lam, ub), lat.parameters(), steps,
                      lr=5e-2, seed=seed)
        genotype = lat.cell.genotype()
        results.append(Outcome(lam, genotype, float(lat().detach()), log.task[-1],
                               {"upper_ms": ub, "move_probs": lat.move_probs().detach(),
                                "cell_ms": discrete_cell_latency(genotype, op_ms)}))
    return results


def ga_decode(move_probs: torch.Tensor, cell_ms: torch.Tensor, scaling_ms: torch.Tensor,
              mask: torch.Tensor, n_paths: int, rng: np.random.Generator,
              upper_ms: float = RTDNAS_LATENCY_UB_MS, min_fps: float = 22.0,
              fixed_ms: float = 0.0, n_gen: int = 100) -> tuple[GenePool, SearchResult]:
    """Gene pool from the move probabilities, then the GA over N_l-path individuals.

    The pool holds the paper's top 10 paths, or every legal path of a backbone that has fewer
    (the small CPU backbones)."""
    n_layers, n_scales, _ = move_probs.shape
    size = min(POOL_SIZE, len(legal_paths(n_layers, n_scales)))
    pool = GenePool.top(move_probs.numpy().astype(np.float64), size)
    per_cell = torch.where(mask, cell_ms.unsqueeze(1) + scaling_ms, 0.0).numpy()
    cells = np.broadcast_to(per_cell, (move_probs.shape[0], *per_cell.shape))
    problem = PathSelectionProblem(pool, cells, n_paths, fixed_ms=fixed_ms, upper_ms=upper_ms,
                                   min_fps=min_fps)
    return pool, GeneticAlgorithm(n_gen=n_gen).run(problem, rng)
