"""RT-DNAS §2.3's operators as pymoo operators: an individual is a sorted array of distinct
gene-pool indices ("the order of genes is maintained throughout the process")."""

from __future__ import annotations

from typing import Any

import numpy as np
from pymoo.core.crossover import Crossover
from pymoo.core.mutation import Mutation
from pymoo.core.sampling import Sampling


def repair(genes: np.ndarray, pool_size: int, rng: np.random.Generator) -> np.ndarray:
    """Replace duplicate genes by unused pool genes and sort (genes stay ordered by weight)."""
    out = list(dict.fromkeys(int(g) for g in genes))
    unused = [g for g in range(pool_size) if g not in out]
    while len(out) < len(genes):
        out.append(unused.pop(int(rng.integers(len(unused)))))
    return np.sort(np.array(out))


class PoolSampling(Sampling):
    """Initial population: ``n_paths`` distinct pool genes drawn uniformly, sorted."""

    def _do(
        self,
        problem: Any,
        n_samples: int,
        *args: Any,
        random_state: np.random.Generator,
        **kwargs: Any,
    ) -> np.ndarray:
        return np.stack(
            [
                np.sort(random_state.choice(len(problem.pool), size=problem.n_paths, replace=False))
                for _ in range(n_samples)
            ]
        )


class GeneSwapCrossover(Crossover):
    """Two individuals exchange a random non-empty subset of gene positions (applied with
    probability ``prob`` by pymoo), then duplicates are repaired from the pool."""

    def __init__(self, prob: float = 0.9):
        super().__init__(n_parents=2, n_offsprings=2, prob=prob)

    def _do(
        self,
        problem: Any,
        X: np.ndarray,
        *args: Any,
        random_state: np.random.Generator,
        **kwargs: Any,
    ) -> np.ndarray:
        """X (2, n_matings, n_paths) -> offspring of the same shape."""
        out = np.empty_like(X)
        for m, (a, b) in enumerate(zip(X[0], X[1])):
            swap = random_state.random(len(a)) < 0.5
            if not swap.any():
                swap[random_state.integers(len(a))] = True
            out[0, m] = repair(np.where(swap, b, a), len(problem.pool), random_state)
            out[1, m] = repair(np.where(swap, a, b), len(problem.pool), random_state)
        return out


class PoolMutation(Mutation):
    """One random gene becomes a pool gene the individual lacks (each individual with
    probability ``prob``, drawn by pymoo)."""

    def __init__(self, prob: float = 0.3):
        super().__init__(prob=prob)

    def _do(
        self,
        problem: Any,
        X: np.ndarray,
        *args: Any,
        random_state: np.random.Generator,
        **kwargs: Any,
    ) -> np.ndarray:
        out = X.copy()
        for row in out:
            unused = np.setdiff1d(np.arange(len(problem.pool)), row)
            if unused.size:
                row[random_state.integers(len(row))] = unused[random_state.integers(unused.size)]
                row.sort()
        return out
