"""Cost of noting each item turn for the watchdog (``InFlight.turn``), beside the alternatives.

    PYTHONPATH=. python bench/inflight_turn_cost.py [--items 256] [--rounds 20] [--repeat 5]

Every switch between items of an interleaved group calls ``on_turn(i)`` (build, describe,
warm-up, one slice per round); ``InFlight.turn`` resets the watchdog's deadline and stores
``i`` into the marker's memory-mapped ``turn`` slot (no system call). Compared with: a no-op
callback (the floor), and rewriting a small file + ``os.replace`` at every turn (a design
that survives the process's death without mmap: two syscalls and a directory update each).
Prints the median ns per turn over ``--repeat`` runs, and what that adds to one group of
``--items`` x ``--rounds`` (turns: builds + describes + warm-ups incl. the drift reference + one
per item and round) beside the group's own measuring budget (``profile``'s default 1000 ms
per op). Wall-clock numbers: other processes' load changes them; run it twice.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from latbench.tablerun.inflight import InFlight


def ns_per_call(fn, n: int, repeat: int) -> float:  # noqa: ANN001
    """Median over ``repeat`` runs of the mean ns of ``fn(i)`` for i in range(n)."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        for i in range(n):
            fn(i % 256)
        runs.append((time.perf_counter_ns() - t0) / n)
    return statistics.median(runs)


def replace_per_turn(folder: Path):  # noqa: ANN201
    path, tmp = folder / "turn.txt", folder / "turn.txt.tmp"

    def turn(i: int) -> None:
        with open(tmp, "w") as fh:
            fh.write(str(i))
        os.replace(tmp, path)

    return turn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=256, help="items in a group")
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds")
    parser.add_argument("--repeat", type=int, default=5, help="runs per line (median)")
    parser.add_argument("--budget-ms", type=float, default=1000.0, help="budget per item")
    args = parser.parse_args(argv)
    turns = 3 * args.items + 1 + (args.items + 1) * args.rounds
    group_s = args.items * args.budget_ms / 1e3
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inflight = InFlight(folder / "t.csv", limit_s=600.0, note=False)
        keys = [f"op{i}" for i in range(args.items)]
        inflight.start(keys, [{"key": k, "kind": "conv", "op_params": "kernel=3"} for k in keys])
        cases = [
            ("no-op callback (floor)", lambda i: None),
            ("InFlight.turn (mmap slot + deadline)", inflight.turn),
            ("write + os.replace per turn", replace_per_turn(folder)),
        ]
        n = max(turns, 20000)
        results = [
            (name, ns_per_call(fn, n if "replace" not in name else n // 10, args.repeat))
            for name, fn in cases
        ]
        inflight.finish()
    floor = results[0][1]
    print(
        f"group: {args.items} items x {args.rounds} rounds = {turns} turns; measuring "
        f"budget {group_s:.0f} s"
    )
    print(f"{'per turn':40s} {'ns/turn':>9s} {'x floor':>8s} {'ms/group':>9s} {'of budget':>10s}")
    for name, ns in results:
        per_group_ms = ns * turns / 1e6
        print(
            f"{name:40s} {ns:9.0f} {ns / floor:8.1f} {per_group_ms:9.2f} "
            f"{per_group_ms / 1e3 / group_s:10.2e}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
