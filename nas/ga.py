"""RT-DNAS' genetic algorithm on pymoo (Sect. 2.3): a gene is a legal path (the scale after
each layer, from and back to scale 0, moving at most one scale per layer) with accumulated
weight Σ_l log P(move_l); an individual is a sorted array of ``n_paths`` distinct gene-pool
indices ("the order of genes is maintained"). Its fitness is the predicted latency (ms) of the
distinct cells (layer, scale, move) of its paths (overlapping segments counted once), under
pymoo's constraints ``G <= 0``: latency ≤ the bound and 1000 / latency ≥ the FPS floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pymoo.algorithms.soo.nonconvex.ga import GA
from pymoo.core.algorithm import Algorithm
from pymoo.core.crossover import Crossover
from pymoo.core.mutation import Mutation
from pymoo.core.problem import Problem
from pymoo.core.sampling import Sampling
from pymoo.core.termination import Termination
from pymoo.optimize import minimize

from latbench.nas.errors import NonFiniteError, SearchError
from latbench.papers import RTDNAS_GA_GENERATIONS as N_GENERATIONS
from latbench.papers import RTDNAS_GA_POOL as POOL_SIZE
from latbench.papers import RTDNAS_GA_POPULATION as POP_SIZE
from latbench.papers import RTDNAS_LATENCY_UB_MS, RTDNAS_MIN_FPS
from latbench.papers.rtdnas.space import MOVES


def legal_paths(n_layers: int, n_scales: int) -> list[tuple[int, ...]]:
    """Every scale sequence s_0..s_L with s_0 = s_L = 0, |s_l − s_{l−1}| ≤ 1, 0 ≤ s_l < S."""
    paths: list[tuple[int, ...]] = [(0,)]
    for layer in range(1, n_layers + 1):
        left = n_layers - layer  # layers left to climb back to scale 0
        paths = [p + (p[-1] + m,) for p in paths for m in MOVES if 0 <= p[-1] + m < n_scales]
        paths = [p for p in paths if p[-1] <= left]
    return paths


def path_cells(path: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """The cells a path runs: (layer, scale it leaves, move index into MOVES)."""
    return [(layer, a, MOVES.index(b - a)) for layer, (a, b) in enumerate(zip(path, path[1:]))]


@dataclass(frozen=True)
class GenePool:
    """The top paths by accumulated weight, best first (gene i is ``paths[i]``)."""

    paths: tuple[tuple[int, ...], ...]
    weights: np.ndarray

    @classmethod
    def top(cls, move_probs: np.ndarray, size: int = POOL_SIZE) -> GenePool:
        """The ``size`` legal paths with the highest accumulated weight under ``move_probs``
        (L, S, 3) (ties: lexicographic); ``SearchError`` when there are fewer legal paths,
        ``NonFiniteError`` when the probabilities hold NaN/inf."""
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
        weights = np.array([sum(np.log(move_probs[c]) for c in path_cells(p)) for p in paths])
        order = sorted(range(len(paths)), key=lambda i: (-weights[i], paths[i]))[:size]
        return cls(tuple(paths[i] for i in order), weights[order])

    def __len__(self) -> int:
        return len(self.paths)


class PathSelectionProblem(Problem):
    """pymoo problem: ``n_paths`` integer genes in [0, pool size), one objective (latency_ms),
    two inequality constraints; counts distinct evaluations so that searches compare fairly.
    ``cell_latency_ms`` is (layers, scales, 3)."""

    def __init__(
        self,
        pool: GenePool,
        cell_latency_ms: np.ndarray,
        n_paths: int,
        *,
        upper_ms: float = RTDNAS_LATENCY_UB_MS,
        min_fps: float = RTDNAS_MIN_FPS,
    ):
        if not 1 <= n_paths <= len(pool):
            raise SearchError(f"n_paths={n_paths} must be between 1 and the pool size {len(pool)}")
        self.pool, self.n_paths = pool, n_paths
        self.cell_latency_ms = np.asarray(cell_latency_ms, dtype=np.float64)
        if not np.isfinite(self.cell_latency_ms).all():
            raise NonFiniteError(
                "GA fitness: the cell latencies hold NaN/inf; no individual can be priced on them"
            )
        self.upper_ms, self.min_fps = upper_ms, min_fps
        self._cells = [frozenset(path_cells(p)) for p in pool.paths]
        self._cache: dict[tuple[int, ...], float] = {}
        super().__init__(n_var=n_paths, n_obj=1, n_ieq_constr=2, xl=0, xu=len(pool) - 1, vtype=int)

    @property
    def n_evals(self) -> int:
        """Distinct individuals evaluated so far."""
        return len(self._cache)

    def latency_ms(self, genes: np.ndarray) -> float:
        key = tuple(int(g) for g in genes)
        if key not in self._cache:
            cells = frozenset().union(*(self._cells[g] for g in key))
            self._cache[key] = float(sum(self.cell_latency_ms[c] for c in cells))
        return self._cache[key]

    def _evaluate(self, X: np.ndarray, out: dict, *args: Any, **kwargs: Any) -> None:
        """F (n,) latency in ms to minimise; G (n, 2) constraint values, feasible where <= 0."""
        F = np.array([self.latency_ms(x) for x in X])
        out["F"] = F
        out["G"] = np.stack([F - self.upper_ms, self.min_fps - 1000.0 / np.maximum(F, 1e-12)], 1)


def _repair(genes: np.ndarray, pool_size: int, rng: np.random.Generator) -> np.ndarray:
    """Duplicate genes replaced by unused pool genes, sorted."""
    out = list(dict.fromkeys(int(g) for g in genes))
    unused = [g for g in range(pool_size) if g not in out]
    while len(out) < len(genes):
        out.append(unused.pop(int(rng.integers(len(unused)))))
    return np.sort(np.array(out))


class PoolSampling(Sampling):
    """Initial population: ``n_paths`` distinct pool genes drawn uniformly, sorted."""

    def _do(self, problem: Any, n_samples: int, *args: Any, random_state: Any, **kw: Any) -> Any:
        pool, n = len(problem.pool), problem.n_paths
        return np.stack(
            [np.sort(random_state.choice(pool, n, replace=False)) for _ in range(n_samples)]
        )


class GeneSwapCrossover(Crossover):
    """Two individuals exchange a random non-empty subset of gene positions (applied with
    probability ``prob`` by pymoo), then duplicates are repaired from the pool."""

    def __init__(self, prob: float = 0.9):
        super().__init__(n_parents=2, n_offsprings=2, prob=prob)

    def _do(self, problem: Any, X: np.ndarray, *args: Any, random_state: Any, **kw: Any) -> Any:
        """X (2, n_matings, n_paths) -> offspring of the same shape."""
        out = np.empty_like(X)
        for m, (a, b) in enumerate(zip(X[0], X[1])):
            swap = random_state.random(len(a)) < 0.5
            if not swap.any():
                swap[random_state.integers(len(a))] = True
            out[0, m] = _repair(np.where(swap, b, a), len(problem.pool), random_state)
            out[1, m] = _repair(np.where(swap, a, b), len(problem.pool), random_state)
        return out


class PoolMutation(Mutation):
    """One random gene becomes a pool gene the individual lacks (each individual with
    probability ``prob``, drawn by pymoo)."""

    def __init__(self, prob: float = 0.3):
        super().__init__(prob=prob)

    def _do(self, problem: Any, X: np.ndarray, *args: Any, random_state: Any, **kw: Any) -> Any:
        out = X.copy()
        for row in out:
            unused = np.setdiff1d(np.arange(len(problem.pool)), row)
            if unused.size:
                row[random_state.integers(len(row))] = unused[random_state.integers(unused.size)]
                row.sort()
        return out


@dataclass
class SearchResult:
    """Best individual (gene-pool indices), its latency (ms), constraint values and the number
    of distinct evaluations."""

    genes: np.ndarray
    latency_ms: float
    G: np.ndarray
    n_evals: int

    @property
    def feasible(self) -> bool:
        return bool((self.G <= 0).all())


class _Budget(Termination):
    """Stops after ``n_gen`` generations of offspring (pymoo's generation 1 is the initial
    population) or ``max_evals`` distinct evaluations, trimming the offspring to what is left."""

    def __init__(self, n_gen: int, max_evals: int | None):
        super().__init__()
        self.n_gen, self.max_evals = n_gen, max_evals

    def _update(self, algorithm: Algorithm) -> float:
        done = (algorithm.n_gen - 1) / self.n_gen
        if self.max_evals is not None:
            n_evals = algorithm.problem.n_evals
            algorithm.n_offsprings = max(1, min(algorithm.pop_size, self.max_evals - n_evals))
            done = max(done, n_evals / self.max_evals)
        return done


@dataclass
class GeneticAlgorithm:
    """pymoo's single-objective GA: (μ+λ) survival of distinct individuals ranked by constraint
    violation then latency, parents by binary tournament under the same rules (Deb's
    feasibility rules, pymoo's default), RT-DNAS' sampling, crossover and mutation."""

    pop_size: int = POP_SIZE
    n_gen: int = N_GENERATIONS

    def run(
        self, problem: PathSelectionProblem, seed: int, max_evals: int | None = None
    ) -> SearchResult:
        """Evolve for ``n_gen`` generations or until ``max_evals`` distinct evaluations."""
        algorithm = GA(
            pop_size=self.pop_size if max_evals is None else min(self.pop_size, max_evals),
            sampling=PoolSampling(),
            crossover=GeneSwapCrossover(),
            mutation=PoolMutation(),
            eliminate_duplicates=True,
        )
        budget = _Budget(self.n_gen, max_evals)
        res = minimize(problem, algorithm, budget, seed=seed, return_least_infeasible=True)
        return SearchResult(
            np.asarray(res.X, dtype=int), float(res.F[0]), np.asarray(res.G), problem.n_evals
        )


def random_selection(problem: PathSelectionProblem, n_evals: int, seed: int) -> SearchResult:
    """Baseline: distinct random individuals from the same pool until ``n_evals`` evaluations
    (or until every individual has been seen)."""
    rng = np.random.default_rng(seed)
    rows: dict[tuple[int, ...], np.ndarray] = {}
    for _ in range(100 * n_evals):
        if len(rows) >= n_evals:
            break
        x = np.sort(rng.choice(len(problem.pool), problem.n_paths, replace=False))
        rows.setdefault(tuple(x), x)
    X = np.stack(list(rows.values()))
    F, G = problem.evaluate(X, return_values_of=["F", "G"])
    i = int(np.lexsort((F[:, 0], np.maximum(G, 0).sum(axis=1)))[0])
    return SearchResult(X[i], float(F[i, 0]), G[i], problem.n_evals)
