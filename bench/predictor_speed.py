"""How fast the network predictor answers: 1e5 architectures, batched, versus one at a time.

A search (RT-DNAS GA, HyperSegNAS filter) holds its population as op-index arrays; the
predictor computes each distinct op's cost once and then sums / takes longest paths with numpy.
The script samples real NAS-Bench-201 networks, encodes them, resamples their index rows to
--n architectures, and prints side by side (medians over --rounds):

  batched predict of n archs from index arrays   (the search's path; goal: well under 1 s)
  encode + predict of m Architecture objects     (from Python objects, per arch)
  Python loop: Architecture.longest_path + sum   (per arch, the unbatched reference)

Predictions are checked to agree. The op costs are a synthetic table (this measures speed,
not accuracy), so no profiling is needed.

    python bench/predictor_speed.py [--n 100000] [--space nasbench201] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from latbench.archs import sample_architectures
from latbench.predictors.batch import encode
from latbench.predictors.data import op_data
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.network import NetworkPredictor


def synthetic_table(ops) -> pd.DataFrame:  # noqa: ANN001
    """Op 'latencies' proportional to FLOPs + bytes: a stand-in table (speed only)."""
    ms = [0.01 + 1e-8 * s.features()["flops"] + 1e-7 * s.features()["bytes_read"] for s in ops]
    return pd.DataFrame({"key": [s.key for s in ops], "latency_median_ms": ms})


def best_of(fn, rounds: int) -> tuple[float, object]:  # noqa: ANN001
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--m", type=int, default=2000, help="Architecture objects to sample")
    p.add_argument("--space", default="nasbench201")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()

    archs = sample_architectures(args.space, args.m, "small", seed=0)
    batch = encode(archs)
    ops = op_data(synthetic_table(batch.ops))
    lut = LookupPredictor().fit(*ops.xy)
    truth = np.array([sum(lut.predict(a.ops())) * 1.1 + 0.02 * len(a.edges) for a in archs])
    model = NetworkPredictor(lut).fit(archs, truth)
    rows = np.random.default_rng(0).integers(0, args.m, size=args.n)
    big = batch.take(rows)

    t_batched, pred_big = best_of(lambda: model.predict(big), args.rounds)
    t_encode, pred_m = best_of(lambda: model.predict(archs), args.rounds)
    assert np.array_equal(pred_big, pred_m[rows]), "batched and per-object predictions differ"
    cost = dict(zip((s.key for s in batch.ops), lut.predict(batch.ops)))
    k = min(args.m, 500)
    t_loop, _ = best_of(
        lambda: [
            (a.longest_path(lambda e: cost[e.op.key]), sum(cost[o.key] for o in a.ops()))
            for a in archs[:k]
        ],
        1,
    )
    n_edges = len(archs[0].edges)
    print(
        f"{args.space}: {len(batch.ops)} distinct ops, {n_edges} edges per network; "
        f"median of {args.rounds} rounds"
    )
    print(
        f"  batched, {args.n:>7} archs from index arrays : {t_batched * 1e3:8.1f} ms total, "
        f"{t_batched / args.n * 1e6:7.2f} µs/arch  (goal: 1e5 well under 1 s)"
    )
    print(
        f"  encode + predict, {args.m:>5} Architecture objects: {t_encode * 1e3:8.1f} ms total, "
        f"{t_encode / args.m * 1e6:7.2f} µs/arch"
    )
    print(
        f"  Python loop, {k:>5} archs (longest path + sum): {t_loop * 1e3:8.1f} ms total, "
        f"{t_loop / k * 1e6:7.2f} µs/arch"
    )
    print(
        f"  ratio per arch: loop / batched = {t_loop / k / (t_batched / args.n):.0f}x, "
        f"encode / batched = {t_encode / args.m / (t_batched / args.n):.0f}x; "
        f"1e5 batched would take {t_batched / args.n * 1e5 * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
