"""What the garbage collection after each measured batch costs, frozen or not.

    PYTHONPATH=. python bench/batch_gc_cost.py [--repeat 7]

``latbench.timed.time_guarded_many`` collects garbage after every batch (one item with
``--rounds 1``, one interleaved group otherwise) so that the modules it built are freed before
the next batch is built. With torch and latbench imported, a full ``gc.collect()`` walks about
200,000 objects. The batch freezes what existed before it (``gc.freeze``), so the collection
walks only what the batch made, and unfreezes afterwards. Printed: the median ms of one
collection either way, their ratio, and what each adds to a table of 25 and of 1,000 batches.
Wall-clock numbers: other processes' load changes them; the ratio is the figure to quote.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time

import latbench.cli.profile  # noqa: F401 - what a measuring process has imported
import latbench.profile  # noqa: F401


def _ms(fn, repeat: int) -> float:  # noqa: ANN001
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1e3)
    return statistics.median(runs)


def _batch_garbage() -> list[object]:
    class Node:
        def __init__(self) -> None:
            self.me = self

    return [Node() for _ in range(2000)]  # a batch's modules and their cycles, roughly


def full() -> None:
    _batch_garbage()
    gc.collect()


def frozen() -> None:
    gc.freeze()
    _batch_garbage()
    gc.collect()
    gc.unfreeze()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    gc.collect()
    print(
        f"objects tracked by the collector: {len(gc.get_objects()):,}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    a, b = _ms(full, args.repeat), _ms(frozen, args.repeat)
    print(
        f"{'collection after a batch':32s} {'ms':>8s} {'25 batches s':>13s} {'1000 batches s':>15s}"
    )
    for name, ms in (("full gc.collect() (baseline)", a), ("freeze, collect, unfreeze", b)):
        print(f"{name:32s} {ms:8.2f} {ms * 25 / 1e3:13.2f} {ms * 1000 / 1e3:15.1f}")
    print(f"ratio baseline / frozen: {a / max(b, 1e-6):.0f}x")


if __name__ == "__main__":
    main()
