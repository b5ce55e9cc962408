"""Genes of the RT-DNAS genetic algorithm: legal paths through the layer × scale backbone.

A path is the scale after each layer, starting and ending at scale 0 (full resolution, where
the segmentation head reads), moving at most one scale per layer. Its accumulated weight is
Σ_l log P(move_l), the log-probability of the path under the searched network weights β.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latbench.nas.errors import NonFiniteError, SearchError
from latbench.papers import RTDNAS_GA_POOL as POOL_SIZE
from latbench.papers.rtdnas.space import MOVES


def legal_paths(n_layers: int, n_scales: int) -> list[tuple[int, ...]]:
    """Every scale sequence s_0..s_L with s_0 = s_L = 0, |s_l − s_{l−1}| ≤ 1, 0 ≤ s_l < S."""
    if n_layers < 1 or n_scales < 1:
        raise SearchError(f"need n_layers >= 1 and n_scales >= 1, got {n_layers}, {n_scales}")
    paths: list[tuple[int, ...]] = [(0,)]
    for layer in range(1, n_layers + 1):
        left = n_layers - layer  # layers left to climb back to scale 0
        paths = [
            p + (p[-1] + m,)
            for p in paths
            for m in MOVES
            if 0 <= p[-1] + m < n_scales and p[-1] + m <= left
        ]
    return paths


def path_cells(path: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """The cells a path runs: (layer, scale it leaves, move index into MOVES)."""
    return [(layer, a, MOVES.index(b - a)) for layer, (a, b) in enumerate(zip(path, path[1:]))]


def accumulated_weight(path: tuple[int, ...], move_probs: np.ndarray) -> float:
    """Σ_l log P(move_l) under ``move_probs`` (L, S, 3)."""
    return float(sum(np.log(move_probs[c]) for c in path_cells(path)))


@dataclass(frozen=True)
class GenePool:
    """The top paths by accumulated weight, best first (gene i is ``paths[i]``)."""

    paths: tuple[tuple[int, ...], ...]
    weights: np.ndarray

    @classmethod
    def top(cls, move_probs: np.ndarray, size: int = POOL_SIZE) -> GenePool:
        """The ``size`` legal paths with the highest accumulated weight (ties: lexicographic)."""
        n_layers, n_scales, _ = move_probs.shape
        paths = legal_paths(n_layers, n_scales)
        if len(paths) < size:
            raise SearchError(
                f"the backbone has only {len(paths)} legal paths; pool size {size} is too large"
            )
        if not np.isfinite(move_probs).all():
            raise NonFiniteError(
                "GA gene pool: the move probabilities hold NaN/inf; the paths "
                "cannot be ranked on them"
            )
        weights = np.array([accumulated_weight(p, move_probs) for p in paths])
        order = sorted(range(len(paths)), key=lambda i: (-weights[i], paths[i]))[:size]
        return cls(tuple(paths[i] for i in order), weights[order])

    def __len__(self) -> int:
        return len(self.paths)
