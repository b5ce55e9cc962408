"""latbench's timer against torch.utils.benchmark's blocked_autorange, side by side.

For fixed ops on the CPU (or a GPU), 0.3-20 ms each, each round times the same callable with torch's
``Timer.blocked_autorange`` (wall clock, ``min_run_time`` 0.2 s, its default), latbench's quick
protocol on the wall clock, and on the CPU latbench's quick protocol and its default
``TimingConfig()`` on the per-thread CPU clock (the default with one thread), beside the default
before it changed (``BEFORE_DEFAULT``: a 1000 ms budget). Per op it prints each timer's median
latency (median over rounds), its ratio to torch's (same clock: goal within 5 %), its own agreement
between rounds (max / min of its medians - 1: how repeatable the answer is) and its time to answer
(goal: <= 0.5x torch's for quick); then per timer the median over ops of both. The load average is
printed: on a shared machine the wall-clock medians move with the neighbours, the thread clock's
much less.

    python bench/timer_vs_torch_benchmark.py [--rounds 5] [--device cpu|cuda:0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

import torch
import torch.utils.benchmark as tb

from latbench.opspec import OpSpec
from latbench.timed import op_callable
from latbench.timing import QUICK, TimingConfig, make_timer, min_sample_ms_for, torch_threads

SPECS = [
    OpSpec.make("conv", (1, 32, 56, 56), kernel=3),
    OpSpec.make("conv", (1, 64, 28, 28), kernel=3, dilation=2),
    OpSpec.make("sepconv", (1, 64, 28, 28), kernel=5),
    OpSpec.make("conv", (1, 16, 16, 32, 32), kernel=(3, 1, 1)),
    OpSpec.make("pool", (1, 16, 32, 32), reduce="max", kernel=3, stride=1),
    OpSpec.make("conv", (1, 64, 112, 112), kernel=3),  # ~20 ms on one thread
]
BEFORE_DEFAULT = TimingConfig(budget_ms=1000.0)
"""``TimingConfig()`` before it changed: the baseline of the default's row."""
THREADS = 1


def time_torch(fn: Callable[[], object]) -> tuple[float, float]:
    t0 = time.perf_counter()
    m = tb.Timer(stmt="fn()", globals={"fn": fn}, num_threads=THREADS).blocked_autorange(
        min_run_time=0.2
    )
    return m.median * 1e3, time.perf_counter() - t0


def ours(
    device: str, clock: str, preset: TimingConfig = QUICK
) -> Callable[[Callable[[], object]], tuple[float, float]]:
    config = replace(preset, min_sample_ms=min_sample_ms_for(device, clock))
    options = {"clock": clock} if device == "cpu" else {}
    timer = make_timer(device, config, threads=THREADS, **options)

    def run(fn: Callable[[], object]) -> tuple[float, float]:
        t0 = time.perf_counter()
        m = timer.measure(fn)
        return m.median_ms, time.perf_counter() - t0

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    args = parser.parse_args()
    timers = {
        "torch blocked_autorange": time_torch,
        "latbench quick, wall": ours(args.device, "wall"),
    }
    if args.device == "cpu":
        timers["latbench quick, thread"] = ours("cpu", "thread")
        timers["default before, thread"] = ours("cpu", "thread", BEFORE_DEFAULT)
        timers["latbench default, thread"] = ours("cpu", "thread", TimingConfig())
    print(
        f"torch {torch.__version__}, {args.device}, {THREADS} thread, {args.rounds} "
        f"interleaved rounds, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"{'op':34s} {'timer':24s} {'median ms':>9s} {'/ torch':>8s} {'rounds ±':>8s} "
        f"{'answer s':>8s} {'/ torch':>8s}"
    )
    speed, agree = [], []
    summary: dict[str, list[tuple[float, float]]] = {name: [] for name in timers}
    with torch_threads(THREADS):
        for spec in SPECS:
            fn = op_callable(spec, args.device)
            got: dict[str, list[tuple[float, float]]] = {name: [] for name in timers}
            for _ in range(args.rounds):
                for name, run in timers.items():
                    got[name].append(run(fn))
            med = {n: statistics.median(ms for ms, _ in v) for n, v in got.items()}
            sec = {n: statistics.median(s for _, s in v) for n, v in got.items()}
            base = "torch blocked_autorange"
            label = f"{spec.kind} {'x'.join(map(str, spec.input_shape))}"
            for name, values in got.items():
                ms = [m for m, _ in values]
                spread = max(ms) / min(ms) - 1
                print(
                    f"{label:34s} {name:24s} {med[name]:9.4f} {med[name] / med[base]:8.3f} "
                    f"{100 * spread:7.1f}% {sec[name]:8.3f} {sec[name] / sec[base]:8.2f}"
                )
                label = ""
                summary[name].append((sec[name] / sec[base], spread))
            speed.append(sec["latbench quick, wall"] / sec[base])
            agree.append(abs(med["latbench quick, wall"] / med[base] - 1))
    print(f"{'over the ops: timer':34s} {'answer / torch':>15s} {'rounds ± (median, max)':>24s}")
    for name, rows in summary.items():
        ratios, spreads = zip(*rows)
        print(
            f"{name:34s} {statistics.median(ratios):15.2f} "
            f"{100 * statistics.median(spreads):10.1f}% {100 * max(spreads):11.1f}%"
        )
    print(
        f"latbench (wall) vs torch: median time-to-answer ratio {statistics.median(speed):.2f} "
        f"(goal <= 0.5), worst |median ratio - 1| {100 * max(agree):.1f}% (goal <= 5%)"
    )


if __name__ == "__main__":
    main()
