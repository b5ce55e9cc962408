"""Our timer (CPU clock or CUDA events) against torch.utils.benchmark.Timer.adaptive_autorange, side by side.

For fixed convs on the CPU or a GPU, both timers measure the same callable in interleaved rounds; the
script prints each timer's median latency, the ratio ours / torch (goal: within 5 %), and each
timer's time-to-answer. Machines here are noisy, so it reports medians over rounds.

    python bench/timer_vs_torch_benchmark.py [--rounds 5] [--threads 1] [--device cuda:0]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.utils.benchmark as tb

from latbench.opspec import OpSpec
from latbench.profile import op_callable
from latbench.timing import TimingConfig, make_timer, torch_threads

SPECS = [
    OpSpec.make("conv", (1, 32, 56, 56), kernel=3),
    OpSpec.make("conv", (1, 64, 28, 28), kernel=3, dilation=2),
    OpSpec.make("sepconv", (1, 64, 28, 28), kernel=5),
    OpSpec.make("conv", (1, 16, 16, 32, 32), kernel=(3, 1, 1)),
]


def time_torch(fn, threads: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    m = tb.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads).adaptive_autorange(
        threshold=0.01, max_run_time=5.0)
    return m.median * 1e3, time.perf_counter() - t0


def time_ours(fn, device: str, threads: int) -> tuple[float, float]:
    timer = make_timer(device, TimingConfig(warmup_ms=50, budget_ms=3000, target_rel_ci=0.005),
                       threads=threads)
    t0 = time.perf_counter()
    m = timer.measure(fn)
    return m.median_ms, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {args.device}, {args.threads} thread(s), "
          f"{args.rounds} interleaved rounds")
    print(f"{'op':58s} {'ours ms':>9s} {'torch ms':>9s} {'ratio':>7s} {'ours s':>7s} {'torch s':>8s}")
    ratios = []
    for spec in SPECS:
        fn = op_callable(spec, args.device)
        ours, theirs, t_ours, t_theirs, r = [], [], [], [], []
        with torch_threads(args.threads):
            for _ in range(args.rounds):
                ms_o, s_o = time_ours(fn, args.device, args.threads)
                ms_t, s_t = time_torch(fn, args.threads)
                ours.append(ms_o), theirs.append(ms_t), t_ours.append(s_o), t_theirs.append(s_t)
                r.append(ms_o / ms_t)
        ratio = statistics.median(r)
        ratios.append(ratio)
        label = f"{spec.kind} {spec.input_shape} k={spec.p.get('kernel')}"
        print(f"{label:58s} {statistics.median(ours):9.4f} {statistics.median(theirs):9.4f} "
              f"{ratio:7.3f} {statistics.median(t_ours):7.2f} {statistics.median(t_theirs):8.2f}")
    worst = max(abs(r - 1) for r in ratios)
    print(f"median ratio ours/torch {statistics.median(ratios):.3f}; worst |ratio-1| "
          f"{100 * worst:.1f}% ({'within' if worst <= 0.05 else 'OUTSIDE'} the 5% goal)")


if __name__ == "__main__":
    main()
