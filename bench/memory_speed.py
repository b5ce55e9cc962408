"""How fast the memory predictor is: one DiNTS network at 96³, and screening 2000 of them.

Prints, for single full predictions (trace of the training steps + caching-allocator replay),
the first call in the process (imports, meta-kernel warm-up) and the median of the next ones,
as wall time and as this process's CPU time (other processes on a shared machine inflate the
wall time; the load average is printed); then the HyperSegNAS screen of ``--n`` sampled
architectures: per-op fast path for all, full traces only near the band edges.

    python bench/memory_speed.py --single 8 --n 2000
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from latbench.archs import sample_architectures
from latbench.predictors.memory import TrainingMemoryPredictor
from latbench.predictors.memory_screen import MemoryScreen


def timed(fn):  # noqa: ANN001, ANN201
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--single", type=int, default=8, help="single predictions to time")
    ap.add_argument("--n", type=int, default=2000, help="architectures to screen")
    ap.add_argument("--calibration", type=int, default=32)
    ap.add_argument("--band", type=float, default=300.0)
    ap.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for the full traces of the screen",
    )
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}, cpus: {os.cpu_count()}")
    model = TrainingMemoryPredictor("reserved").fit([], [])
    archs = sample_architectures("dints", args.single + 1, "paper", seed=10)
    if args.single < 1 or args.n < 1:
        raise SystemExit("--single and --n must be >= 1")
    _, w_cold, c_cold = timed(lambda: model.predict(archs[:1]))
    warm = [timed(lambda a=a: model.predict([a]))[1:] for a in archs[1:]]
    w, c = np.array(warm).T
    print(
        f"one DiNTS network at 96^3 (full trace + allocator replay, 2 Adam steps): "
        f"first call {w_cold:.2f} s wall / {c_cold:.2f} s cpu; then median {np.median(w):.2f} "
        f"s wall / {np.median(c):.2f} s cpu, max {w.max():.2f} s wall (n={len(w)})"
    )

    cal = sample_architectures("dints", args.calibration, "paper", seed=11)
    screen, w_fit, c_fit = timed(lambda: MemoryScreen(model).fit(cal))
    print(f"calibrated on {args.calibration} in {w_fit:.1f} s", flush=True)
    cands, w_sample, _ = timed(lambda: sample_architectures("dints", args.n, "paper", seed=12))
    fast, w_fast, c_fast = timed(lambda: screen.predict(cands))
    target = float(np.median(fast))
    result, w_scr, c_scr = timed(
        lambda: screen.set_params(target_mib=target, band_mib=args.band, n_jobs=args.jobs).screen(
            cands
        )
    )
    print(
        f"screen calibration on {args.calibration} full predictions: {w_fit:.1f} s wall / "
        f"{c_fit:.1f} s cpu; max calibration error {screen.max_error_mib_:.1f} MiB, "
        f"margin {screen.margin_mib_:.1f} MiB"
    )
    print(f"fast path for {args.n}: {w_fast:.1f} s wall / {c_fast:.1f} s cpu")
    print(
        f"screen of {args.n} around {target:.0f} MiB +/- {args.band:.0f} with {args.jobs} "
        f"process(es): {w_scr:.1f} s wall / {c_scr:.1f} s cpu in the parent (+ calibration "
        f"{w_fit:.1f} s); full traces {result.n_full}, "
        f"kept {int(result.kept.sum())}"
    )
    total = w_fit + w_scr
    print(
        f"total screen wall time incl. calibration: {total:.1f} s ({total / 60:.2f} min; "
        f"sampling the {args.n} architectures took another {w_sample:.1f} s); "
        f"load average at end: {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
