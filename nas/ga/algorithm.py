"""The genetic algorithm (pymoo's ``GA`` with RT-DNAS' operators) and the random-selection
baseline, both seeded by an integer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pymoo.algorithms.soo.nonconvex.ga import GA
from pymoo.core.algorithm import Algorithm
from pymoo.core.callback import Callback
from pymoo.core.termination import Termination
from pymoo.optimize import minimize

from latbench.nas.ga.operators import GeneSwapCrossover, PoolMutation, PoolSampling
from latbench.nas.ga.problem import PathSelectionProblem
from latbench.papers import RTDNAS_GA_GENERATIONS as N_GENERATIONS
from latbench.papers import RTDNAS_GA_POPULATION as POP_SIZE


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
        return bool((self.G <= 0).all())


def best_feasible(F: np.ndarray, G: np.ndarray) -> float:
    """Lowest latency among feasible individuals, inf when none is feasible."""
    ok = (G <= 0).all(axis=1)
    return float(F[ok].min()) if ok.any() else float("inf")


class _Budget(Termination, Callback):
    """Stops after ``n_gen`` generations (the initial population is generation 1, as in pymoo)
    or ``max_evals`` distinct evaluations; trims the next generation's offspring to what the
    budget has left and records the trace."""

    def __init__(self, n_gen: int, max_evals: int | None):
        Termination.__init__(self)
        Callback.__init__(self)
        self.n_gen, self.max_evals = n_gen, max_evals
        self.trace: list[tuple[int, float]] = []

    def _update(self, algorithm: Algorithm) -> float:
        done = algorithm.n_gen / self.n_gen if algorithm.n_gen is not None else 0.0
        if self.max_evals is not None and algorithm.problem is not None:
            done = max(done, algorithm.problem.n_evals / self.max_evals)
        return done

    def notify(self, algorithm: Algorithm) -> None:
        problem, (F, G) = algorithm.problem, algorithm.pop.get("F", "G")
        best = min([t[1] for t in self.trace[-1:]] + [best_feasible(F[:, 0], G)])
        self.trace.append((problem.n_evals, best))
        if self.max_evals is not None:
            algorithm.n_offsprings = max(
                1, min(algorithm.pop_size, self.max_evals - problem.n_evals)
            )


@dataclass
class GeneticAlgorithm:
    """pymoo's single-objective GA: (μ+λ) survival of distinct individuals ranked by constraint
    violation then latency, parents by binary tournament under the same rules (Deb's
    feasibility rules, pymoo's default), RT-DNAS' sampling, crossover and mutation."""

    pop_size: int = POP_SIZE
    n_gen: int = N_GENERATIONS
    crossover_prob: float = 0.9
    mutation_prob: float = 0.3

    def run(
        self, problem: PathSelectionProblem, seed: int, max_evals: int | None = None
    ) -> SearchResult:
        """Evolve for ``n_gen`` generations or until ``max_evals`` distinct evaluations."""
        pop_size = self.pop_size if max_evals is None else min(self.pop_size, max_evals)
        budget = _Budget(self.n_gen, max_evals)
        algorithm = GA(
            pop_size=pop_size,
            sampling=PoolSampling(),
            crossover=GeneSwapCrossover(self.crossover_prob),
            mutation=PoolMutation(self.mutation_prob),
            eliminate_duplicates=True,
        )
        res = minimize(
            problem,
            algorithm,
            budget,
            seed=seed,
            callback=budget,
            copy_termination=False,
            return_least_infeasible=True,
        )
        return SearchResult(
            np.asarray(res.X, dtype=int),
            float(res.F[0]),
            np.asarray(res.G),
            problem.n_evals,
            budget.trace,
        )


def random_selection(problem: PathSelectionProblem, n_evals: int, seed: int) -> SearchResult:
    """Baseline: distinct random individuals from the same pool until ``n_evals`` evaluations
    (or until every individual has been seen)."""
    rng = np.random.default_rng(seed)
    sampling = PoolSampling()
    rows, trace, tries = [], [], 0
    best = float("inf")
    while problem.n_evals < n_evals and tries < 100 * n_evals:
        x = sampling(problem, 1, random_state=rng).get("X").astype(int)
        tries += 1
        if problem.seen(x[0]):
            continue
        F, G = problem.evaluate(x, return_values_of=["F", "G"])
        rows.append(x[0])
        best = min(best, best_feasible(F[:, 0], G))
        trace.append((problem.n_evals, best))
    X = np.stack(rows)
    F, G = problem.evaluate(X, return_values_of=["F", "G"])
    i = int(np.lexsort((F[:, 0], np.maximum(G, 0).sum(axis=1)))[0])
    return SearchResult(X[i], float(F[i, 0]), G[i], problem.n_evals, trace)
