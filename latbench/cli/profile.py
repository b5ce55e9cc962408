"""``latbench profile SPACE``: measure a search space's ops into a crash-safe table."""

from __future__ import annotations

import argparse

from latbench.cli.measuring import (add_measuring_args, row_advancer, set_drift_nominal,
                                   timer_from_args)
from latbench.cli.ui import console, progress_bar
from latbench.profile import default_table_path, profile_specs
from latbench.spaces import get_space


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="measure every op of a search space into a table",
                       description="Measure every op of SPACE on DEVICE; rows are appended and "
                                   "flushed one by one, and a re-run resumes where it stopped.")
    p.add_argument("space", help="search space (see `latbench spaces`)")
    p.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default=None,
                   help="measure in this dtype instead of the space's")
    add_measuring_args(p, budget_ms=1000.0, warmup_ms=50.0, what="op")
    p.add_argument("--l2-flush", action="store_true", help="CUDA: flush L2 before each sample")
    p.add_argument("--cuda-graph", action="store_true", help="CUDA: time CUDA-graph replays")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    space = get_space(args.space)
    specs = space.ops(args.size)
    if args.dtype:
        specs = [s.replace(dtype=args.dtype) for s in specs]
    timer, slug = timer_from_args(args, l2_flush=args.l2_flush, cuda_graph=args.cuda_graph)
    path = args.table or default_table_path(slug, space.name, args.size, args.out)
    set_drift_nominal(timer, args, path)
    console.print(f"profiling {len(specs)} ops of [bold]{space.name}[/] ({args.size}) on "
                  f"{slug} -> {path}")
    with progress_bar() as bar:
        task = bar.add_task(space.name, total=len(specs), status="")
        advance = row_advancer(bar, task, lambda spec: spec.kind)
        result = profile_specs(specs, path, timer, on_progress=advance,
                               meta={"space": space.name, "size": args.size})
    console.print(f"measured {len(result.measured)}, already in table {len(result.skipped)}, "
                  f"failed {len(result.failed)} (recorded with their error) -> {path}")
    return 0
