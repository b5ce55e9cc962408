"""Which drift reference tracks the slow-down a neighbour causes: one op, or a whole network?

Measures, in the same interleaved rounds on one thread (per-thread CPU clock), --n sampled
NAS-Bench-201 small networks beside two candidate references: the op latbench used before
(conv-BN-ReLU + 3x3 average pool on 1x16x32x32) and the network it uses now
(``latbench.timed.reference_callable``, ``REFERENCE_ID``). Once alone, then once each beside a
neighbour process on the other core: ``dispatch`` (PyTorch eager calls on tiny tensors),
``stream`` (copying a 64 MB array: memory bandwidth), ``alu`` (a pure Python loop). For each
neighbour it prints the networks' slow-down against the pass alone, what each reference read,
and the share of networks within ±10 % of the pass alone after dividing by each reference.

    PYTHONPATH=. python bench/drift_reference.py [--n 20] [--budget-ms 300]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch

from latbench.archs import sample_architectures
from latbench.timed import module_callable, reference_callable
from latbench.timing import TimingConfig
from latbench.timing.adaptive import measure_each
from latbench.timing.cpu import CpuSampler, resolve_clock

NEIGHBOURS = {
    "dispatch": "import torch\ntorch.set_num_threads(1)\nx = torch.randn(1, 8, 8, 8)\n"
    "while True:\n    (x + 1).relu().sum()",
    "stream": "import numpy as np\na = np.ones(8_000_000)\nb = np.empty_like(a)\n"
    "while True:\n    np.copyto(b, a)",
    "alu": "while True:\n    pass",
}


def previous_reference():
    """The op latbench used as its drift reference before the network."""
    gen = torch.Generator().manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(16, 16, 3, padding=1, bias=False),
        torch.nn.BatchNorm2d(16),
        torch.nn.ReLU(),
        torch.nn.AvgPool2d(3, 1, 1),
    ).eval()
    x = torch.randn(1, 16, 32, 32, generator=gen)

    def run():
        with torch.inference_mode():
            return module(x)

    return run


def fastest(fns, budget_ms: float) -> np.ndarray:
    config = TimingConfig(warmup_ms=20, budget_ms=budget_ms, min_sample_ms=1.0, rounds=20)
    out = measure_each(fns, CpuSampler(resolve_clock("thread", 1)), config)
    return np.array([min(m.samples_ms) for m in out])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--budget-ms", type=float, default=300.0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    nets = [
        module_callable(a.build("cpu").eval(), a.example_inputs("cpu"), "infer")
        for a in sample_architectures("nasbench201", args.n, "small", seed=5)
    ]
    fns = [previous_reference(), reference_callable(), *nets]
    print(
        f"{args.n} nasbench201 small networks, {args.budget_ms:.0f} ms each per pass, 1 thread, "
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )
    t0 = time.perf_counter()
    alone = fastest(fns, args.budget_ms)
    print(
        f"{'neighbour':9s}  networks / alone (median [min, max])  op ref  network ref  "
        f"within ±10 %: raw / op-corrected / network-corrected"
    )
    for name, code in NEIGHBOURS.items():
        proc = subprocess.Popen([sys.executable, "-c", code])
        try:
            time.sleep(1.0)
            busy = fastest(fns, args.budget_ms)
        finally:
            proc.kill()
            proc.wait()
        r = busy / alone
        op, net, ratios = r[0], r[1], r[2:]
        share = [np.mean(np.abs(ratios / d - 1) < 0.1) for d in (1.0, op, net)]
        print(
            f"{name:9s}  {np.median(ratios):.3f} [{ratios.min():.3f}, {ratios.max():.3f}]"
            f"{'':16s}{op:.3f}  {net:11.3f}  " + " / ".join(f"{100 * s:.0f} %" for s in share)
        )
    print(
        f"total {time.perf_counter() - t0:.0f} s, load average {os.getloadavg()[0]:.1f} at the end"
    )


if __name__ == "__main__":
    main()
