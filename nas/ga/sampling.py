"""Initial population: individuals of distinct pool genes drawn uniformly."""

from __future__ import annotations

import numpy as np


class PoolSampling:
    """``n`` individuals of ``n_paths`` distinct genes from a pool of ``pool_size``, sorted."""

    def __call__(self, n: int, n_paths: int, pool_size: int,
                 rng: np.random.Generator) -> np.ndarray:
        return np.stack([np.sort(rng.choice(pool_size, size=n_paths, replace=False))
                         for _ in range(n)])
