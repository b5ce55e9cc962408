"""The path-selection problem: fitness = predicted latency of the union of an individual's paths.

An individual is a sorted array of ``n_paths`` distinct gene-pool indices. Its network runs
every distinct cell (layer, scale, move) of its paths once — overlapping segments are counted
once — and its latency is the sum of those cells' predicted latencies. Constraints follow
pymoo's convention ``G <= 0``: latency ≤ upper bound and throughput ≥ minimum FPS.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pymoo.core.problem import Problem

from latbench.nas.errors import NonFiniteError, SearchError
from latbench.nas.ga.paths import GenePool, path_cells
from latbench.papers import RTDNAS_LATENCY_UB_MS, RTDNAS_MIN_FPS


def single_stream_fps(latency_ms: np.ndarray) -> np.ndarray:
    """Throughput estimate 1000 / latency for frames processed one at a time (an estimate)."""
    return 1000.0 / np.maximum(latency_ms, 1e-12)


class PathSelectionProblem(Problem):
    """pymoo problem: ``n_paths`` integer genes in [0, pool size), one objective (latency_ms),
    two inequality constraints; counts distinct evaluations so that searches compare fairly."""

    def __init__(
        self,
        pool: GenePool,
        cell_latency_ms: np.ndarray,
        n_paths: int,
        *,
        fixed_ms: float = 0.0,
        upper_ms: float = RTDNAS_LATENCY_UB_MS,
        min_fps: float = RTDNAS_MIN_FPS,
        throughput: Callable[[np.ndarray], np.ndarray] = single_stream_fps,
    ):
        n_scales = max(max(p) for p in pool.paths) + 1
        if cell_latency_ms.ndim != 3 or cell_latency_ms.shape[1] < n_scales:
            raise SearchError(
                f"cell_latency_ms must be (layers, scales, 3) covering the pool's "
                f"{n_scales} scales, got {cell_latency_ms.shape}"
            )
        if not 1 <= n_paths <= len(pool):
            raise SearchError(f"n_paths={n_paths} must be between 1 and the pool size {len(pool)}")
        self.pool, self.n_paths = pool, n_paths
        self.cell_latency_ms = np.asarray(cell_latency_ms, dtype=np.float64)
        if not np.isfinite(self.cell_latency_ms).all() or not np.isfinite(fixed_ms):
            raise NonFiniteError(
                "GA fitness: the cell latencies (or the fixed part) hold "
                "NaN/inf; no individual can be priced on them"
            )
        self.fixed_ms, self.upper_ms, self.min_fps = fixed_ms, upper_ms, min_fps
        self.throughput = throughput
        self._cells = [frozenset(path_cells(p)) for p in pool.paths]
        self._cache: dict[tuple[int, ...], float] = {}
        super().__init__(n_var=n_paths, n_obj=1, n_ieq_constr=2, xl=0, xu=len(pool) - 1, vtype=int)

    @property
    def n_evals(self) -> int:
        """Distinct individuals evaluated so far."""
        return len(self._cache)

    def seen(self, genes: np.ndarray) -> bool:
        """Whether this individual was evaluated already (it would not count again)."""
        return tuple(int(g) for g in genes) in self._cache

    def latency_ms(self, genes: np.ndarray) -> float:
        key = tuple(int(g) for g in genes)
        if key not in self._cache:
            cells = frozenset().union(*(self._cells[g] for g in key))
            self._cache[key] = self.fixed_ms + float(sum(self.cell_latency_ms[c] for c in cells))
        return self._cache[key]

    def _evaluate(self, X: np.ndarray, out: dict, *args, **kwargs) -> None:
        """F (n,) latency in ms to minimise; G (n, 2) constraint values, feasible where <= 0."""
        F = np.array([self.latency_ms(x) for x in X])
        out["F"] = F
        out["G"] = np.stack([F - self.upper_ms, self.min_fps - self.throughput(F)], axis=1)

    def weight(self, X: np.ndarray) -> np.ndarray:
        """Accuracy proxy: mean accumulated weight of each individual's paths."""
        return np.array([float(np.mean(self.pool.weights[x])) for x in X])
