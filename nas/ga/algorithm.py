"""The genetic algorithm loop and the random-selection baseline, both seeded by a Generator."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from latbench.papers import RTDNAS_GA_GENERATIONS as N_GENERATIONS
from latbench.papers import RTDNAS_GA_POPULATION as POP_SIZE
from latbench.nas.ga.crossover import GeneSwapCrossover
from latbench.nas.ga.mutation import PoolMutation
from latbench.nas.ga.problem import PathSelectionProblem
from latbench.nas.ga.sampling import PoolSampling
from latbench.nas.ga.selection import ConstraintTournament, rank, violation


@dataclass
class SearchResult:
    """Best individual (gene-pool indices), its latency and constraint values, and a trace of
    (distinct evaluations, best feasible latency so far) pairs."""

    genes: np.ndarray
    latency_ms: float
    G: np.ndarray
    n_evals: int
    trace: list[tuple[int, float]] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return bool(violation(self.G[None])[0] == 0)


def best_feasible(F: np.ndarray, G: np.ndarray) -> float:
    """Lowest latency among feasible individuals, inf when none is feasible."""
    ok = violation(G) == 0
    return float(F[ok].min()) if ok.any() else float("inf")


@dataclass
class GeneticAlgorithm:
    """(μ+λ) GA over pool-index individuals; survival keeps the best distinct individuals."""

    pop_size: int = POP_SIZE
    n_gen: int = N_GENERATIONS
    sampling: PoolSampling = field(default_factory=PoolSampling)
    selection: ConstraintTournament = field(default_factory=ConstraintTournament)
    crossover: GeneSwapCrossover = field(default_factory=GeneSwapCrossover)
    mutation: PoolMutation = field(default_factory=PoolMutation)

    def run(self, problem: PathSelectionProblem, rng: np.random.Generator,
            max_evals: int | None = None) -> SearchResult:
        """Evolve for ``n_gen`` generations or until ``max_evals`` distinct evaluations."""
        X = np.unique(self.sampling(self.pop_size, problem.n_paths, len(problem.pool), rng),
                      axis=0)
        if max_evals is not None:
            X = X[:max_evals]
        F, G = problem.evaluate(X)
        trace = [(problem.n_evals, best_feasible(F, G))]
        for _ in range(self.n_gen):
            if max_evals is not None and problem.n_evals >= max_evals:
                break
            X, F, G = self._generation(problem, X, F, G, rng, max_evals)
            trace.append((problem.n_evals, min(trace[-1][1], best_feasible(F, G))))
        best = rank(F, G)[0]
        return SearchResult(X[best], float(F[best]), G[best], problem.n_evals, trace)

    def _offspring(self, problem: PathSelectionProblem, X: np.ndarray, F: np.ndarray,
                   G: np.ndarray, rng: np.random.Generator, max_evals: int | None) -> list:
        k, budget = len(problem.pool), None
        if max_evals is not None:
            budget = max_evals - problem.n_evals
        parents = self.selection(F, G, self.pop_size, rng)
        children, new = [], set()
        for a, b in zip(parents[0::2], parents[1::2]):
            for child in self.crossover(X[a], X[b], k, rng):
                child = self.mutation(child, k, rng)
                key = tuple(child)
                if not problem.seen(child) and key not in new:
                    if budget is not None and len(new) >= budget:
                        continue
                    new.add(key)
                children.append(child)
        return children

    def _generation(self, problem: PathSelectionProblem, X: np.ndarray, F: np.ndarray,
                    G: np.ndarray, rng: np.random.Generator, max_evals: int | None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        children = self._offspring(problem, X, F, G, rng, max_evals)
        if not children:
            return X, F, G
        Fc, Gc = problem.evaluate(np.stack(children))
        allX = np.concatenate([X, np.stack(children)])
        allF, allG = np.concatenate([F, Fc]), np.concatenate([G, Gc])
        _, first = np.unique(allX, axis=0, return_index=True)
        distinct = set(first.tolist())
        keep = [i for i in rank(allF, allG) if i in distinct][: self.pop_size]
        return allX[keep], allF[keep], allG[keep]


def random_selection(problem: PathSelectionProblem, n_evals: int,
                     rng: np.random.Generator) -> SearchResult:
    """Baseline: distinct random individuals from the same pool until ``n_evals`` evaluations
    (or until every individual has been seen)."""
    sampling = PoolSampling()
    rows, trace, tries = [], [], 0
    best = float("inf")
    while problem.n_evals < n_evals and tries < 100 * n_evals:
        x = sampling(1, problem.n_paths, len(problem.pool), rng)
        tries += 1
        if problem.seen(x[0]):
            continue
        F, G = problem.evaluate(x)
        rows.append(x[0])
        best = min(best, best_feasible(F, G))
        trace.append((problem.n_evals, best))
    X = np.stack(rows)
    F, G = problem.evaluate(X)
    i = rank(F, G)[0]
    return SearchResult(X[i], float(F[i]), G[i], problem.n_evals, trace)
