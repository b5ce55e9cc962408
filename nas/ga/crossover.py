"""Crossover: two individuals exchange a portion of their genes (RT-DNAS §2.3)."""

from __future__ import annotations

import numpy as np


def repair(genes: np.ndarray, pool_size: int, rng: np.random.Generator) -> np.ndarray:
    """Replace duplicate genes by unused pool genes and sort (genes stay ordered by weight)."""
    out = list(dict.fromkeys(int(g) for g in genes))
    unused = [g for g in range(pool_size) if g not in out]
    while len(out) < len(genes):
        out.append(unused.pop(int(rng.integers(len(unused)))))
    return np.sort(np.array(out))


class GeneSwapCrossover:
    """With probability ``prob``, swap a random non-empty subset of gene positions."""

    def __init__(self, prob: float = 0.9):
        self.prob = prob

    def __call__(self, a: np.ndarray, b: np.ndarray, pool_size: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if len(a) < 2 or rng.random() >= self.prob:
            return a.copy(), b.copy()
        swap = rng.random(len(a)) < 0.5
        if not swap.any():
            swap[rng.integers(len(a))] = True
        c, d = np.where(swap, b, a), np.where(swap, a, b)
        return repair(c, pool_size, rng), repair(d, pool_size, rng)
