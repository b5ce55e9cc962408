"""Options and progress shared by the subcommands that measure (`profile`, `measure-nets`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.progress import Progress, TaskID

from latbench.cli.argtypes import nonnegative_float, positive_float, positive_int
from latbench.device import fingerprint
from latbench.profile import DEFAULT_PROFILE_DIR
from latbench.spaces import SIZES
from latbench.timing import Timer, TimingConfig, make_timer, min_sample_ms_for


def add_measuring_args(p: argparse.ArgumentParser, *, budget_ms: float, warmup_ms: float,
                       what: str) -> None:
    """--size/--device/--threads/--out/--table and the timing budgets, with these defaults."""
    p.add_argument("--size", choices=SIZES, default="small",
                   help="small: shapes for a quick CPU run; paper: the paper's shapes")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: cpu)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="torch CPU threads (default: all; use 1 on a shared machine)")
    p.add_argument("--out", type=Path, default=DEFAULT_PROFILE_DIR,
                   help="profiles root; the table goes under OUT/<device-slug>/")
    p.add_argument("--table", type=Path, default=None, help="write to this CSV instead")
    p.add_argument("--budget-ms", type=positive_float, default=budget_ms,
                   help=f"measuring budget per {what} (default: {budget_ms:g})")
    p.add_argument("--warmup-ms", type=nonnegative_float, default=warmup_ms,
                   help=f"warm-up budget per {what} (default: {warmup_ms:g})")
    p.add_argument("--target-ci", type=positive_float, default=0.01,
                   help="stop when the median's 95%% CI half-width is below this fraction")
    p.add_argument("--rounds", type=positive_int, default=1,
                   help=f"> 1: measure {what}s round-robin in this many rounds of "
                        "budget/rounds each, so a shared machine's drift falls on all alike "
                        "(use 20 with `fit --stat min` on a busy machine; default: 1)")


def timer_from_args(args: argparse.Namespace, **timer_options: Any) -> tuple[Timer, str]:
    """The timer the options describe, and the slug of the device it measures."""
    config = TimingConfig(warmup_ms=args.warmup_ms, budget_ms=args.budget_ms,
                          target_rel_ci=args.target_ci,
                          min_sample_ms=min_sample_ms_for(args.device),
                          rounds=args.rounds)
    timer = make_timer(args.device, config, threads=args.threads, **timer_options)
    return timer, fingerprint(args.device, threads=args.threads)["slug"]


def row_advancer(bar: Progress, task: TaskID, label: Callable[[Any], str]
                 ) -> Callable[[Any, dict[str, Any] | None], None]:
    """A profiling callback that advances ``task`` and shows the last row's result."""

    def advance(item: Any, row: dict[str, Any] | None) -> None:
        status = "cached" if row is None else (
            f"{row['latency_median_ms']:.3f} ms" if row["status"] == "ok" else row["status"])
        bar.update(task, advance=1, status=f"{label(item)}: {status}")

    return advance
