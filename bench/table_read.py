"""Reading a table and showing it: op keys parsed once, the side-car shared by frames.

    PYTHONPATH=. python bench/table_read.py [--repeat 9]

For each committed CPU table of ``device_profiles/cpu-amd-epyc-1t/`` (op tables and the DiNTS
memory table), the median ms of:

* ``read_table``, with ``OpSpec.from_key``'s cache cleared before each read (a fresh process)
  and warm (a process that read tables or architectures before);
* ``latbench show TABLE --limit 1`` run in this process, with ``attrs['meta']`` a plain dict
  (the baseline: pandas deep-copies ``attrs`` after every frame operation) and a
  ``TableMeta``, which pandas shares (what ``read_table`` gives).

Wall-clock numbers: other processes' load changes them; the ratios are the figures to quote.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import statistics
import time
from pathlib import Path

import latbench.tables.store as store
from latbench.cli import main as latbench_main
from latbench.opspec import OpSpec
from latbench.tables import read_table

PROFILES = Path(__file__).resolve().parents[1] / "device_profiles" / "cpu-amd-epyc-1t"


def _ms(fn, repeat: int, before=None) -> float:  # noqa: ANN001
    runs = []
    for _ in range(repeat):
        if before:
            before()
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1e3)
    return statistics.median(runs)


def _show(path: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        latbench_main(["show", str(path), "--limit", "1"])


@contextlib.contextmanager
def _plain_meta():
    shared = store.TableMeta.of
    store.TableMeta.of = classmethod(lambda cls, data: data)  # read_meta's plain dict
    try:
        yield
    finally:
        store.TableMeta.of = shared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; median of {args.repeat} runs, ms")
    print(
        f"{'table':28s} {'rows':>5s} {'read cold':>10s} {'read warm':>10s} {'ratio':>6s} "
        f"{'show dict':>10s} {'show shared':>12s} {'ratio':>6s}"
    )
    for path in sorted(PROFILES.glob("*.csv")):
        read, show = functools.partial(read_table, path), functools.partial(_show, path)
        cold = _ms(read, args.repeat, OpSpec.from_key.cache_clear)
        warm = _ms(read, args.repeat)
        show()
        with _plain_meta():
            a = _ms(show, args.repeat)
        b = _ms(show, args.repeat)
        rows = len(read_table(path))
        print(
            f"{path.stem:28s} {rows:5d} {cold:10.1f} {warm:10.1f} {cold / warm:5.1f}x "
            f"{a:10.1f} {b:12.1f} {a / b:5.1f}x"
        )


if __name__ == "__main__":
    main()
