"""Does the memory screen's margin cover its error on networks outside the calibration sample?

    PYTHONPATH=. python bench/memory_screen_margin.py [--size small] [--held-out 60]

The HyperSegNAS screen (``latbench.predictors.memory_screen.MemoryScreen``) decides keep/drop
from the fast path unless the fast value is within a margin of a band edge. For calibration
samples of 8, 16 and 32 DiNTS networks it prints: the largest in-sample calibration error (the
margin's basis before), the largest leave-one-out error (PRESS residuals, the basis now), the
largest error on ``--held-out`` other networks, and, on those, how many fast-path decisions
(target: their median fast value, band: the fast values' standard deviation) the full
predictor contradicts under each margin (safety factor 1.25 both). Full predictions are
estimates (trace + allocator replay), the same function the screen falls back on.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from latbench.archs import sample_architectures
from latbench.predictors.memory import TrainingMemoryPredictor
from latbench.predictors.memory_screen import SAFETY, MemoryBand, MemoryScreen, fast_features


def wrong_fast_decisions(
    fast: np.ndarray, full: np.ndarray, band: MemoryBand, margin: float
) -> int:
    decided = ~band.near_edge(fast, margin)
    return int((band.contains(fast)[decided] != band.contains(full)[decided]).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=("small", "paper"))
    parser.add_argument("--held-out", type=int, default=60)
    args = parser.parse_args()
    t0 = time.perf_counter()
    print(
        f"load average {os.getloadavg()[0]:.1f}; DiNTS {args.size}, "
        f"{args.held_out} held-out networks, safety {SAFETY}"
    )
    model = TrainingMemoryPredictor("reserved").fit([], [])
    held = sample_architectures("dints", args.held_out, args.size, seed=2)
    full_held = model.predict(held)
    print(
        f"{'calibration':>11s} {'in-sample':>10s} {'leave-1-out':>12s} {'held-out':>9s} "
        f"{'wrong (in-sample margin)':>25s} {'wrong (LOO margin)':>19s}   MiB"
    )
    for n in (8, 16, 32):
        cal = sample_architectures("dints", n, args.size, seed=100 + n)
        screen = MemoryScreen(model).fit(cal)
        x = np.stack([fast_features(a, model.config) for a in cal])
        in_sample = float(np.abs(x @ screen.coef_ - model.predict(cal)).max())
        fast = screen.predict(held)
        band = MemoryBand(float(np.median(fast)), float(np.std(fast)))
        old = wrong_fast_decisions(fast, full_held, band, SAFETY * in_sample)
        new = wrong_fast_decisions(fast, full_held, band, screen.margin_mib_)
        print(
            f"{n:11d} {in_sample:10.2f} {screen.max_error_mib_:12.2f} "
            f"{float(np.abs(fast - full_held).max()):9.2f} {old:25d} {new:19d}"
        )
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
