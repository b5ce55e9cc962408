"""The HyperSegNAS memory screen's full traces: one process, a local pool, and Ray, side by side.

Screens ``--n`` sampled DiNTS architectures (paper size, 96³) around their median fast
estimate ± 300 MiB: the fast per-op path for all, full traces (trace + allocator replay) for
those near the band edges, run (1) in this process, (2) in a local joblib pool of ``--jobs``
processes, (3) as Ray tasks on a local Ray of ``--jobs`` CPUs. Prints each wall time, Ray's own
startup separately, the ratios to the single process, and checks that the three agree.

    python bench/memory_screen_fleet.py --n 2000 --jobs 2
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from latbench.archs import sample_architectures
from latbench.fleet import connect
from latbench.predictors.memory import TrainingMemoryPredictor
from latbench.predictors.memory_screen import MemoryScreen


def timed(fn):  # noqa: ANN001, ANN201
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="architectures to screen")
    ap.add_argument("--calibration", type=int, default=32)
    ap.add_argument("--band", type=float, default=300.0)
    ap.add_argument("--jobs", type=int, default=2, help="local processes / Ray CPUs")
    ap.add_argument("--skip-serial", action="store_true", help="skip the one-process run")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}, cpus: {os.cpu_count()}")
    model = TrainingMemoryPredictor("reserved").fit([], [])
    screen = MemoryScreen(model).fit(
        sample_architectures("dints", args.calibration, "paper", seed=11)
    )
    cands = sample_architectures("dints", args.n, "paper", seed=12)
    target = float(np.median(screen.predict(cands)))
    screen.set_params(target_mib=target, band_mib=args.band)
    runs: dict[str, tuple[object, float]] = {}
    if not args.skip_serial:
        runs["one process"] = timed(lambda: screen.set_params(n_jobs=1).screen(cands))
    runs[f"joblib pool, {args.jobs} processes"] = timed(
        lambda: screen.set_params(n_jobs=args.jobs).screen(cands)
    )
    ray, startup = timed(lambda: connect(None, num_cpus=args.jobs))
    runs[f"Ray, {args.jobs} CPUs (startup {startup:.1f} s not included)"] = timed(
        lambda: screen.set_params(n_jobs=1, ray=ray).screen(cands)
    )
    base = next(iter(runs.values()))[1]
    first = next(iter(runs.values()))[0]
    print(
        f"{args.n} DiNTS 96^3 architectures, target {target:.0f} ± {args.band:.0f} MiB, "
        f"{first.n_full} full traces"
    )
    print(f"{'how':<52} {'wall s':>8} {'ratio':>7}  same result")
    for name, (result, wall) in runs.items():
        same = np.array_equal(result.values_mib, first.values_mib)
        print(f"{name:<52} {wall:8.1f} {wall / base:7.2f}  {same}")
    print(f"Ray startup: {startup:.1f} s; load average at end: {os.getloadavg()}")
    ray.shutdown()


if __name__ == "__main__":
    main()
