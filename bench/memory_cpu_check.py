"""CPU check of the memory model: predicted vs measured peak RSS growth of DiNTS networks.

Each network trains for a few steps in a fresh process (protocol: ``latbench.memory.cpu``) and
its peak RSS growth is measured; the same steps are traced on meta tensors and replayed as live
bytes (a CPU has no caching allocator): by the predictor (CPU slow_conv3d workspace model, blocks
under glibc's fixed 64 KiB mmap threshold not counted) and, for comparison, the bare trace.
The prediction is not calibrated on these measurements (offset 0). Prints per-network numbers
and the median / max error in MiB and %.

    python bench/memory_cpu_check.py --n 20 --size small
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from latbench.archs import sample_architectures
from latbench.device import fingerprint
from latbench.memory.allocator import replay_live
from latbench.memory.steps import TrainConfig
from latbench.memory.table import arch_id, default_memory_table, measure_into_table, measure_memory
from latbench.memory.trace import trace_training
from latbench.predictors.memory import TrainingMemoryPredictor
from latbench.tables import read_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default="dints")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--size", default="small")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--table", type=Path, default=None)
    args = ap.parse_args()
    config = TrainConfig(steps=args.steps)
    archs = sample_architectures(args.space, args.n, args.size, args.seed)
    slug = fingerprint("cpu", threads=args.threads)["slug"]
    path = args.table or default_memory_table(slug, f"{args.space}-{args.size}")
    t0 = time.perf_counter()
    measure_into_table(
        archs,
        path,
        lambda a: measure_memory(a, "cpu", config, args.threads),
        "cpu",
        config,
        threads=args.threads,
        on_row=lambda a, r: print(
            f"  measured {arch_id(a)}: {'cached' if r is None else r['status']}", flush=True
        ),
    )
    t_measure = time.perf_counter() - t0
    table = read_table(path).set_index("key")
    model = TrainingMemoryPredictor("rss_growth", config, workspace="cpu").fit([], [])
    rows = []
    print(
        f"\n{'arch_id':12} {'ops':>4} {'measured':>9} {'predicted':>9} {'no-ws':>7} "
        f"{'err MiB':>8} {'err %':>7}"
    )
    for a in archs:
        row = table.loc[f"arch:{arch_id(a)}"]
        if isinstance(row, type(table)):
            row = row.iloc[-1]
        if row["status"] != "ok":
            print(f"{arch_id(a):12} {row['status']}: {row['error']}")
            continue
        measured = float(row["rss_growth_mib"])
        predicted = float(model.predict([a])[0])
        plain = replay_live(trace_training(a, config)).growth_live_bytes / 2**20  # no models
        rows.append((measured, predicted, plain))
        print(
            f"{arch_id(a):12} {len(a.edges):4d} {measured:9.1f} {predicted:9.1f} {plain:7.1f} "
            f"{predicted - measured:+8.1f} {100 * (predicted / measured - 1):+7.1f}"
        )
    m, p, q = (np.array(c) for c in zip(*rows))
    err, err_plain = np.abs(p - m), np.abs(q - m)
    print(
        f"\n{len(rows)} networks ({args.space}, {args.size}, {config.optimizer}, "
        f"{config.steps} steps, {args.threads} thread(s)); measuring took {t_measure:.0f} s"
    )
    print(
        f"predictor            : median |err| {np.median(err):.1f} MiB "
        f"({100 * np.median(err / m):.1f} %), max {err.max():.1f} MiB "
        f"({100 * (err / m).max():.1f} %)"
    )
    print(
        f"trace alone          : median |err| {np.median(err_plain):.1f} MiB "
        f"({100 * np.median(err_plain / m):.1f} %), max {err_plain.max():.1f} MiB "
        f"({100 * (err_plain / m).max():.1f} %)"
    )
    print(f"table: {path}")


if __name__ == "__main__":
    main()
