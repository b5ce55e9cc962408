"""Options and progress shared by the subcommands that measure (`profile`, `measure-nets`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress, TaskID

from latbench.device import fingerprint
from latbench.errors import TableError
from latbench.profile import DEFAULT_PROFILE_DIR
from latbench.spaces import SIZES
from latbench.tables import read_table
from latbench.timing import (CLOCK_CHOICES, Timer, TimingConfig, make_timer, min_sample_ms_for,
                             resolve_clock)

DEFAULT_ROUNDS = 20


def add_measuring_args(p: argparse.ArgumentParser, *, budget_ms: float, warmup_ms: float,
                       what: str) -> None:
    """--size/--device/--threads/--out/--table and the timing budgets, with these defaults."""
    p.add_argument("--size", choices=SIZES, default="small",
                   help="small: shapes for a quick CPU run; paper: the paper's shapes")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: cpu)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default: 1, measured on the per-thread CPU clock; "
                        "more threads are timed on the wall clock and warn on a loaded machine)")
    p.add_argument("--clock", choices=CLOCK_CHOICES, default="auto",
                   help="CPU clock: thread (CPU time of the measuring thread: latency on a "
                        "dedicated core), wall (elapsed time), auto (thread with 1 thread, else "
                        "wall; default)")
    p.add_argument("--out", type=Path, default=DEFAULT_PROFILE_DIR,
                   help="profiles root; the table goes under OUT/<device-slug>/")
    p.add_argument("--table", type=Path, default=None, help="write to this CSV instead")
    p.add_argument("--budget-ms", type=float, default=budget_ms,
                   help=f"measuring budget per {what} (default: {budget_ms:g})")
    p.add_argument("--warmup-ms", type=float, default=warmup_ms,
                   help=f"warm-up budget per {what} (default: {warmup_ms:g})")
    p.add_argument("--target-ci", type=float, default=0.01,
                   help="stop when the median's 95%% CI half-width is below this fraction")
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                   help=f"> 1: measure {what}s round-robin in this many rounds of "
                        "budget/rounds each, so a shared machine's drift falls on all alike "
                        f"(1: one after another; default: {DEFAULT_ROUNDS})")
    p.add_argument("--no-reference", dest="reference", action="store_false",
                   help="do not measure the drift reference op in every round (CPU, rounds > "
                        "1); without it the *_corrected_ms columns stay empty")
    p.add_argument("--drift-from", type=Path, default=None,
                   help="take the nominal reference time (drift 1.0) from this table, so that "
                        "tables measured in separate runs share one drift scale")


def nominal_reference_ms(table: Path) -> float | None:
    """The median ``reference_ms`` of a table's rows (None: no table or no reference rows)."""
    if not table.is_file():
        return None
    try:
        values = read_table(table)["reference_ms"].dropna()
    except (TableError, KeyError):
        return None
    return float(np.median(values)) if len(values) else None


def timer_from_args(args: argparse.Namespace, **timer_options: Any) -> tuple[Timer, str]:
    """The timer the options describe, and the slug of the device it measures."""
    cpu = args.device.split(":")[0] == "cpu"
    clock = resolve_clock(args.clock, args.threads) if cpu else "wall"
    config = TimingConfig(warmup_ms=args.warmup_ms, budget_ms=args.budget_ms,
                          target_rel_ci=args.target_ci,
                          min_sample_ms=min_sample_ms_for(args.device, clock),
                          rounds=args.rounds,
                          reference=cpu and args.reference and args.rounds > 1)
    if cpu:
        timer_options["clock"] = clock
    timer = make_timer(args.device, config, threads=args.threads, **timer_options)
    return timer, fingerprint(args.device, threads=args.threads)["slug"]


def set_drift_nominal(timer: Timer, args: argparse.Namespace, table: Path) -> None:
    """Drift 1.0 = the reference time of ``--drift-from``, else of ``table`` when resumed
    (else the run's first group: ``CpuTimer.reference_nominal_ms``)."""
    if hasattr(timer, "reference_nominal_ms"):
        timer.reference_nominal_ms = nominal_reference_ms(args.drift_from or table)


def row_advancer(bar: Progress, task: TaskID, label: Callable[[Any], str]
                 ) -> Callable[[Any, dict[str, Any] | None], None]:
    """A profiling callback that advances ``task`` and shows the last row's result."""

    def advance(item: Any, row: dict[str, Any] | None) -> None:
        status = "cached" if row is None else (
            f"{row['latency_median_ms']:.3f} ms" if row["status"] == "ok" else row["status"])
        bar.update(task, advance=1, status=f"{label(item)}: {status}")

    return advance
