"""``latbench profile SPACE``: measure a search space's ops into a crash-safe table."""

from __future__ import annotations

import argparse
import fnmatch
from typing import TYPE_CHECKING

import numpy as np

from latbench.cli.fleet import add_ray_args, run_fleet
from latbench.cli.measuring import (add_measuring_args, row_advancer, run_options,
                                   set_drift_nominal, timer_from_args)
from latbench.cli.ui import console, progress_bar
from latbench.errors import LatbenchError

if TYPE_CHECKING:  # building the parser imports neither torch nor pandas; running does
    from latbench.opspec import OpSpec


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="measure every op of a search space into a table",
                       description="Measure every op of SPACE on DEVICE; rows are appended and "
                                   "flushed one by one under the table's lock, and a re-run on "
                                   "the same machine resumes where it stopped.")
    p.add_argument("space", help="search space (see `latbench spaces`)")
    p.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default=None,
                   help="measure in this dtype instead of the space's")
    add_measuring_args(p, budget_ms=1000.0, warmup_ms=50.0, what="op")
    p.add_argument("--l2-flush", action="store_true", help="CUDA: flush L2 before each sample")
    p.add_argument("--cuda-graph", action="store_true", help="CUDA: time CUDA-graph replays")
    p.add_argument("--match", action="append", default=None, metavar="GLOB",
                   help="only ops whose key (kind|params|NxCxHxW|dtype|mode) matches this "
                        "glob; repeat for any of several (e.g. '*|1x*' = batch 1)")
    p.add_argument("--sample", type=int, default=None, metavar="N",
                   help="measure a seeded random N of the (matched) ops, in listing order")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample (default: 0)")
    add_ray_args(p)
    p.set_defaults(func=run)


def select_specs(specs: list[OpSpec], match: list[str] | None, sample: int | None,
                 seed: int = 0) -> list[OpSpec]:
    """The specs whose key matches any glob of ``match`` (all when None), then a seeded
    random ``sample`` of them kept in their listing order. ``LatbenchError`` if none is left."""
    if match:
        specs = [s for s in specs if any(fnmatch.fnmatchcase(s.key, g) for g in match)]
    if not specs:
        raise LatbenchError(f"--match {' '.join(match or [])}: no op key matches; keys look "
                            "like kind|k=v;..|NxCxHxW|float32|infer")
    if sample is not None and sample < len(specs):
        if sample < 1:
            raise LatbenchError(f"--sample {sample}: expected a positive number of ops")
        keep = np.random.default_rng(seed).choice(len(specs), sample, replace=False)
        specs = [specs[i] for i in sorted(keep)]
    return specs


def run(args: argparse.Namespace) -> int:
    from latbench.profile import default_table_path, profile_specs
    from latbench.spaces import default_size, get_space

    space = get_space(args.space)
    args.size = args.size or default_size(space.name)
    specs = select_specs(space.ops(args.size), args.match, args.sample, args.seed)
    if args.dtype:
        specs = [s.replace(dtype=args.dtype) for s in specs]
    timer, slug = timer_from_args(args, l2_flush=args.l2_flush, cuda_graph=args.cuda_graph)
    if args.ray is not None:
        from latbench.fleet.jobs import op_job_factory

        make_job = op_job_factory(timer.config, args.threads,
                                  {"l2_flush": args.l2_flush, "cuda_graph": args.cuda_graph},
                                  {"space": space.name, "size": args.size})
        return run_fleet(args, make_job, specs, f"{space.name}-{args.size}",
                         lambda spec: spec.kind, threads=args.threads)
    path = args.table or default_table_path(slug, f"{space.name}-{args.size}", args.out)
    set_drift_nominal(timer, args, path)
    console.print(f"profiling {len(specs)} ops of [bold]{space.name}[/] ({args.size}) on "
                  f"{slug} -> {path}")
    with progress_bar() as bar:
        task = bar.add_task(space.name, total=len(specs), status="")
        advance = row_advancer(bar, task, lambda spec: spec.kind)
        result = profile_specs(specs, path, timer, on_progress=advance,
                               on_round=advance.on_round,
                               meta={"space": space.name, "size": args.size,
                                     "match": args.match, "sample": args.sample,
                                     "seed": args.seed if args.sample else None},
                               **run_options(args))
    console.print(f"measured {len(result.measured)}, already in table {len(result.skipped)}, "
                  f"failed {len(result.failed)} (recorded with their error) -> {result.path}")
    return 0
