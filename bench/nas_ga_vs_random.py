"""GA vs random path selection at equal evaluations (RT-DNAS decoding), predicted latency.

Both pick N_l paths from the same top-10 pool (same accuracy proxy: accumulated weight) and
count distinct evaluated individuals. Network weights β and cell latencies are synthetic
(seeded; the latencies stand in for a predictor's output) — the point is the search, not the
numbers. Prints medians over seeds of the best feasible latency found per evaluation budget.
Run: python bench/nas_ga_vs_random.py
"""

from __future__ import annotations

import itertools

import numpy as np

from latbench.nas.ga import GenePool, GeneticAlgorithm, PathSelectionProblem, random_selection
from latbench.papers.rtdnas.search import legal_moves

N_LAYERS, N_SCALES, N_PATHS, SEEDS = 10, 4, 5, 30
BUDGETS = (20, 40, 60, 100, 150)


def instance(seed: int) -> tuple[GenePool, np.ndarray]:
    rng = np.random.default_rng(1000 + seed)
    mask = legal_moves(N_SCALES).numpy()
    logits = np.where(mask, rng.normal(size=(N_LAYERS, N_SCALES, 3)), -np.inf)
    q = np.exp(logits - logits.max(-1, keepdims=True))
    cells = rng.uniform(0.5, 5.0, size=(N_LAYERS, N_SCALES, 3))
    return GenePool.top(q / q.sum(-1, keepdims=True)), cells


def main() -> None:
    print(
        f"{N_LAYERS} layers x {N_SCALES} scales, pool 10, N_l={N_PATHS} "
        f"({len(list(itertools.combinations(range(10), N_PATHS)))} individuals), {SEEDS} seeds"
    )
    print(
        f"{'evals':>6} {'GA ms':>9} {'random ms':>10} {'random/GA':>10} {'GA wins':>8} "
        f"{'GA gap to opt %':>16} {'rand gap %':>11}"
    )
    for budget in BUDGETS:
        ga, rnd, opt = [], [], []
        for seed in range(SEEDS):
            pool, cells = instance(seed)
            p = PathSelectionProblem(pool, cells, N_PATHS, upper_ms=1e9, min_fps=0.0)
            best = min(
                p.latency_ms(np.array(c)) for c in itertools.combinations(range(10), N_PATHS)
            )
            opt.append(best)
            ga.append(
                GeneticAlgorithm()
                .run(
                    PathSelectionProblem(pool, cells, N_PATHS, upper_ms=1e9, min_fps=0.0),
                    seed,
                    max_evals=budget,
                )
                .latency_ms
            )
            rnd.append(
                random_selection(
                    PathSelectionProblem(pool, cells, N_PATHS, upper_ms=1e9, min_fps=0.0),
                    budget,
                    seed,
                ).latency_ms
            )
        ga, rnd, opt = map(np.array, (ga, rnd, opt))
        print(
            f"{budget:>6} {np.median(ga):>9.3f} {np.median(rnd):>10.3f} "
            f"{np.median(rnd / ga):>10.3f} {np.mean(ga < rnd):>8.2f} "
            f"{100 * np.median(ga / opt - 1):>16.2f} {100 * np.median(rnd / opt - 1):>11.2f}"
        )


if __name__ == "__main__":
    main()
