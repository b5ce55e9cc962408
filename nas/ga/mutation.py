"""Mutation: replace a random gene with another gene from the pool (RT-DNAS §2.3)."""

from __future__ import annotations

import numpy as np


class PoolMutation:
    """With probability ``prob``, one random gene becomes a pool gene the individual lacks."""

    def __init__(self, prob: float = 0.3):
        self.prob = prob

    def __call__(self, genes: np.ndarray, pool_size: int, rng: np.random.Generator) -> np.ndarray:
        unused = np.setdiff1d(np.arange(pool_size), genes)
        if rng.random() >= self.prob or unused.size == 0:
            return genes.copy()
        out = genes.copy()
        out[rng.integers(len(out))] = unused[rng.integers(unused.size)]
        return np.sort(out)
