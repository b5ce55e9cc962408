"""How well two passes over the same networks agree, per CPU measuring protocol, in one run.

Samples --n networks of a space and measures all of them in two passes under each protocol:

  wall, one after another   perf_counter_ns, rounds=1 (the old default)
  wall, interleaved         perf_counter_ns, --rounds interleaved rounds
  thread, interleaved       thread_time_ns (per-thread CPU time), interleaved, with the drift
                            reference; rows "raw" and "drift-corrected" (the default protocol)

with the same budget per network. Passes alternate between protocols (A B C A B C), so each
protocol's two passes lie equally far apart in time. For each protocol and statistic (median,
fastest sample) it prints the share of networks whose second pass is within ±5 % / ±10 % of the
first, the median ratio of the passes (drift) and the time taken, beside the machine's load.

    python bench/measurement_repeatability.py [--space nasbench201] [--n 40] [--budget-ms 300]
        [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pandas as pd

from latbench.archs import sample_architectures
from latbench.netprofile import measure_architectures, read_networks
from latbench.timed import DRIFT_REFERENCE
from latbench.timing import TimingConfig, make_timer, min_sample_ms_for

PROTOCOLS = {  # name: (clock, interleaved, reference)
    "wall, one after another": ("wall", False, False),
    "wall, interleaved": ("wall", True, False),
    "thread, interleaved (default)": ("thread", True, True),
}
STATS = {"median": "latency_median_ms", "min": "latency_min_ms"}
CORRECTED = {"median": "latency_median_corrected_ms", "min": "latency_min_corrected_ms"}


def agreement(first: pd.DataFrame, second: pd.DataFrame, column: str) -> tuple[float, ...]:
    """Share within ±5 %, ±10 %, and the median ratio pass 2 / pass 1."""
    ratio = (second[column] / first[column].reindex(second.index)).to_numpy()
    return (
        float(np.mean(abs(ratio - 1) <= 0.05)),
        float(np.mean(abs(ratio - 1) <= 0.10)),
        float(np.median(ratio)),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--space", default="nasbench201")
    ap.add_argument("--size", default="small")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--budget-ms", type=float, default=300.0)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    archs = sample_architectures(args.space, args.n, args.size, seed=args.seed)
    timers = {}
    for name, (clock, interleaved, reference) in PROTOCOLS.items():
        config = TimingConfig(
            warmup_ms=30,
            budget_ms=args.budget_ms,
            target_rel_ci=0.005,
            min_sample_ms=min_sample_ms_for("cpu", clock),
            rounds=args.rounds if interleaved else 1,
            reference=DRIFT_REFERENCE if reference else None,
        )
        timers[name] = make_timer("cpu", config, threads=1, clock=clock)
    passes: dict[str, list[pd.DataFrame]] = {name: [] for name in PROTOCOLS}
    seconds = dict.fromkeys(PROTOCOLS, 0.0)
    loads = [os.getloadavg()[0]]
    print(
        f"{args.space} ({args.size}): {len(archs)} networks, {args.budget_ms:g} ms each per "
        f"pass, 1 thread, {os.cpu_count()} cores, load average {loads[0]:.1f} at the start"
    )
    with TemporaryDirectory() as tmp:
        for name in [*PROTOCOLS, *PROTOCOLS]:  # A B C A B C
            path = Path(tmp) / f"{len(passes[name])}-{len(seconds)}-{name[:6]}.csv"
            t0 = time.perf_counter()
            measure_architectures(archs, path, timers[name], size=args.size)
            seconds[name] += time.perf_counter() - t0
            passes[name].append(read_networks(path).set_index("arch_id"))
            loads.append(os.getloadavg()[0])
    print(f"load average during the run: {min(loads):.1f}-{max(loads):.1f}\n")
    print(
        f"{'protocol':32s} {'statistic':26s} {'±5 %':>6s} {'±10 %':>6s} {'pass 2 / 1':>10s} "
        f"{'time s':>7s}"
    )
    for name, (first, second) in passes.items():
        for label, column in STATS.items():
            rows = [(label, column)]
            if PROTOCOLS[name][2]:
                rows = [(f"{label} raw", column), (f"{label} drift-corrected", CORRECTED[label])]
            for text, col in rows:
                w5, w10, ratio = agreement(first, second, col)
                print(
                    f"{name:32s} {text:26s} {w5:6.0%} {w10:6.0%} {ratio:10.3f} {seconds[name]:7.0f}"
                )
        if PROTOCOLS[name][2]:
            drift = second["drift"].median() / first["drift"].median()
            print(
                f"{'':32s} drift between the passes (drift reference): {100 * (drift - 1):+.1f} %"
            )


if __name__ == "__main__":
    main()
