"""How well two passes over the same networks agree: one after another vs interleaved rounds.

Samples --n networks of a space and measures each of them in two passes, twice: once one network
after another (``rounds=1``), once in interleaved rounds (``--rounds``), with the same budget
per network. For each protocol and statistic (median, fastest sample) it prints the share of
networks whose second pass is within ±5 % / ±10 % of the first, the median ratio of the passes
(drift) and the time taken. The passes alternate (sequential, interleaved, sequential,
interleaved), so each protocol's two passes lie equally far apart in time.

    python bench/measurement_repeatability.py [--space nasbench201] [--n 40] [--budget-ms 300]
        [--rounds 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

from latbench.archs import sample_architectures
from latbench.netprofile import measure_architectures, read_networks
from latbench.timing import TimingConfig, make_timer

STATS = {"median": "latency_median_ms", "min (fastest sample)": "latency_min_ms"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--space", default="nasbench201")
    ap.add_argument("--size", default="small")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--budget-ms", type=float, default=300.0)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    archs = sample_architectures(args.space, args.n, args.size, seed=args.seed)
    protocols = {"one after another": 1, f"interleaved, {args.rounds} rounds": args.rounds}
    passes: dict[str, list] = {name: [] for name in protocols}
    seconds = dict.fromkeys(protocols, 0.0)
    print(f"{args.space} ({args.size}): {len(archs)} networks, {args.budget_ms:g} ms each per "
          f"pass, {args.threads} thread(s)")
    with TemporaryDirectory() as tmp:
        for name in [*protocols, *protocols]:  # A B A B
            config = TimingConfig(warmup_ms=30, budget_ms=args.budget_ms, target_rel_ci=0.005,
                                  min_sample_ms=0.5, rounds=protocols[name])
            path = Path(tmp) / f"{len(passes[name])}-{protocols[name]}.csv"
            t0 = time.perf_counter()
            measure_architectures(archs, path, make_timer("cpu", config, threads=args.threads),
                                  size=args.size)
            seconds[name] += time.perf_counter() - t0
            passes[name].append(read_networks(path).set_index("arch_id"))
    print(f"\n{'protocol':28s} {'statistic':22s} {'±5 %':>6s} {'±10 %':>6s} "
          f"{'pass 2 / 1':>10s} {'time s':>7s}")
    for name, (first, second) in passes.items():
        for label, column in STATS.items():
            ratio = (second[column] / first[column].reindex(second.index)).to_numpy()
            print(f"{name:28s} {label:22s} {np.mean(abs(ratio - 1) <= 0.05):6.0%} "
                  f"{np.mean(abs(ratio - 1) <= 0.10):6.0%} {np.median(ratio):10.3f} "
                  f"{seconds[name]:7.0f}")


if __name__ == "__main__":
    main()
