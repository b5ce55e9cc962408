"""GA: legal paths, pool, operators keep individuals valid, determinism, constraints, vs random."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pymoo.algorithms.soo.nonconvex.ga import GA
from pymoo.core.population import Population

from latbench.nas.errors import SearchError
from latbench.nas.ga import (
    GenePool,
    GeneSwapCrossover,
    GeneticAlgorithm,
    PathSelectionProblem,
    PoolMutation,
    legal_paths,
    path_cells,
    random_selection,
)
from latbench.papers.rtdnas.search import legal_moves


def _probs(n_layers: int, n_scales: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = legal_moves(n_scales).numpy()
    logits = np.where(mask, rng.normal(size=(n_layers, n_scales, 3)), -np.inf)
    q = np.exp(logits - logits.max(-1, keepdims=True))
    return q / q.sum(-1, keepdims=True)


def _problem(n_paths: int = 4, seed: int = 0, **kw) -> PathSelectionProblem:
    rng = np.random.default_rng(seed + 100)
    pool = GenePool.top(_probs(8, 4, seed))
    cells = rng.uniform(0.5, 3.0, size=(8, 4, 3))
    return PathSelectionProblem(pool, cells, n_paths, **kw)


def test_legal_paths_small_case_by_hand():
    assert legal_paths(2, 2) == [(0, 0, 0), (0, 1, 0)]
    assert len(legal_paths(4, 3)) == 9  # Motzkin paths of length 4 (max height 2)
    for p in legal_paths(10, 4):
        assert p[0] == p[-1] == 0 and all(abs(a - b) <= 1 for a, b in zip(p, p[1:]))


def test_pool_is_top_paths_sorted_by_weight():
    probs = _probs(6, 3, 1)
    pool = GenePool.top(probs, size=10)
    assert list(pool.weights) == sorted(pool.weights, reverse=True)
    others = [p for p in legal_paths(6, 3) if p not in pool.paths]
    best_other = max(sum(np.log(probs[c]) for c in path_cells(p)) for p in others)
    assert pool.weights[-1] >= best_other


def test_fitness_counts_shared_segments_once():
    pool = GenePool(((0, 0, 0), (0, 1, 0)), np.zeros(2))
    cells = np.zeros((2, 2, 3))
    cells[0, 0, 1], cells[1, 0, 1] = 1.0, 2.0  # (0,0,0): 3
    cells[0, 0, 2], cells[1, 1, 0] = 10.0, 20.0  # (0,1,0): 30
    problem = PathSelectionProblem(pool, cells, 2)
    assert problem.latency_ms(np.array([0, 1])) == pytest.approx(33.0)
    same = PathSelectionProblem(GenePool(((0, 0, 0), (0, 0, 0)), np.zeros(2)), cells, 2)
    assert same.latency_ms(np.array([0, 1])) == pytest.approx(3.0)  # overlap counted once


@pytest.mark.parametrize("seed", range(5))
def test_operators_keep_individuals_sorted_and_distinct(seed):
    rng = np.random.default_rng(seed)
    problem = _problem(n_paths=4)  # pool of 10
    pop = Population.new("X", np.array([[0, 2, 4, 6], [1, 2, 3, 9]] * 50))
    parents = np.arange(100).reshape(50, 2)
    children = GeneSwapCrossover(prob=1.0).do(problem, pop, parents, random_state=rng)
    children = PoolMutation(prob=1.0).do(problem, children, random_state=rng).get("X")
    assert children.shape == (100, 4)
    for child in children:
        assert list(child) == sorted(set(child.tolist()))
        assert child.min() >= 0 and child.max() < 10


def test_tournament_prefers_feasible_then_lower_latency():
    # pymoo's default GA selection: binary tournament under Deb's feasibility rules
    pop = Population.new(
        "F", np.array([[10.0], [5.0], [60.0]]), "CV", np.array([[0.0], [0.0], [11.0]])
    )
    winners = (
        GA()
        .mating.selection.do(None, pop, 500, 1, to_pop=False, random_state=np.random.default_rng(0))
        .ravel()
    )
    assert (winners == 2).mean() < 0.2  # the infeasible one wins only against itself
    assert (winners == 1).mean() > (winners == 0).mean()


def test_same_seed_same_result_and_budget_respected():
    r1 = GeneticAlgorithm(n_gen=30).run(_problem(), 7)
    r2 = GeneticAlgorithm(n_gen=30).run(_problem(), 7)
    assert r1.genes.tolist() == r2.genes.tolist() and r1.latency_ms == r2.latency_ms
    r3 = GeneticAlgorithm().run(_problem(), 7, max_evals=40)
    assert r3.n_evals <= 40


def test_constraints_mark_infeasible_networks():
    result = GeneticAlgorithm(n_gen=10).run(_problem(upper_ms=1.0), 0)
    assert not result.feasible and result.G[0] > 0
    ok = GeneticAlgorithm(n_gen=10).run(_problem(upper_ms=1e6, min_fps=0.0), 0)
    assert ok.feasible


def test_ga_finds_optimum_and_beats_random_on_average():
    problem = _problem(n_paths=4)
    exhaustive = min(problem.latency_ms(np.array(c)) for c in itertools.combinations(range(10), 4))
    ga_wins = 0
    for seed in range(10):
        ga = GeneticAlgorithm().run(_problem(n_paths=4), seed, max_evals=60)
        rnd = random_selection(_problem(n_paths=4), 60, seed)
        ga_wins += ga.latency_ms <= rnd.latency_ms
    assert ga_wins >= 6
    full = GeneticAlgorithm().run(_problem(n_paths=4), 0)
    assert full.latency_ms == pytest.approx(exhaustive)


def test_bad_sizes_are_named():
    with pytest.raises(SearchError, match="n_paths=11"):
        _problem(n_paths=11)
    with pytest.raises(SearchError, match="pool size 10"):
        GenePool.top(_probs(2, 2, 0))


def test_the_loop_runs_n_gen_generations_of_offspring_after_the_initial_population():
    """RT-DNAS: "the search loop runs for 100 generations"; pymoo counts the initial population
    as generation 1, so stopping at its generation n_gen ran one loop fewer."""
    problem = _problem()
    batches = []
    evaluate = problem._evaluate

    def counted(X, out, *args, **kwargs):
        batches.append(len(X))
        evaluate(X, out, *args, **kwargs)

    problem._evaluate = counted
    GeneticAlgorithm(n_gen=5).run(problem, 0)
    assert len(batches) == 1 + 5  # the initial population, then five generations
