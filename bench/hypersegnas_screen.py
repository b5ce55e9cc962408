"""The HyperSegNAS screen as ``latbench search hypersegnas`` runs it: one process vs a pool.

Runs ``latbench.papers.hypersegnas.search.search`` on ``--n`` sampled DiNTS architectures at paper
size (96³) with the uncalibrated ``reserved`` predictor, around ``--target`` ± 300 MiB (default:
about the median of their estimates, where the band edges cut the densest part), once in this
process and once with the full traces in a ``--jobs``-process pool; the trace cache is emptied
before each, so both trace everything. Prints wall and CPU seconds (this process; the pool's workers
are not in its CPU time), the full traces and margin, the ratio, and the load.

    PYTHONPATH=. nice -n 5 python bench/hypersegnas_screen.py --n 200
"""

from __future__ import annotations

import argparse
import os
import time

from latbench.papers.hypersegnas import search as hypersegnas
from latbench.predictors import memory
from latbench.predictors.memory import TrainingMemoryPredictor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="architectures sampled")
    ap.add_argument("--target", type=float, default=1350.0, help="band centre, MiB")
    ap.add_argument("--jobs", type=int, default=2, help="processes of the pool run")
    ap.add_argument(
        "--one-process",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run in this process (the baseline; --no-one-process: the pool alone)",
    )
    args = ap.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cpus")
    model = TrainingMemoryPredictor("reserved").fit([], [])
    rows = []
    for jobs in (1, args.jobs) if args.one_process else (args.jobs,):
        memory._BASIS_CACHE.clear()
        load = os.getloadavg()[0]
        w0, c0 = time.perf_counter(), time.process_time()
        out = hypersegnas.search(model, args.n, args.target, size="paper", n_jobs=jobs)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        rows.append((jobs, wall, cpu, out, load, os.getloadavg()[0]))
    print(f"{args.n} DiNTS 96^3 networks, target {args.target:g} ± 300 MiB")
    print(
        f"{'full traces in':<22} {'wall s':>7} {'cpu s':>6} {'traces':>6} {'margin':>7} "
        f"{'kept':>5} {'/ one':>6}  load"
    )
    for jobs, wall, cpu, out, l0, l1 in rows:
        where = "this process" if jobs == 1 else f"{jobs}-process pool"
        print(
            f"{where:<22} {wall:7.1f} {cpu:6.1f} {out.n_full or 0:6d} {out.margin_mib or 0:7.1f} "
            f"{len(out.kept):5d} {wall / rows[0][1]:6.2f}  {l0:.1f}-{l1:.1f}"
        )
    kept = [[a.to_json() for a in row[3].kept] for row in rows]
    if len(kept) == 2:
        print(f"same kept networks: {kept[0] == kept[1]}")


if __name__ == "__main__":
    main()
