"""``latbench profile SPACE``: measure a search space's ops into a crash-safe table."""

from __future__ import annotations

import argparse
from pathlib import Path

from latbench.cli.ui import console, progress_bar
from latbench.device import fingerprint
from latbench.profile import DEFAULT_PROFILE_DIR, default_table_path, profile_specs
from latbench.spaces import SIZES, get_space
from latbench.timing import TimingConfig, make_timer


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="measure every op of a search space into a table",
                       description="Measure every op of SPACE on DEVICE; rows are appended and "
                                   "flushed one by one, and a re-run resumes where it stopped.")
    p.add_argument("space", help="search space (see `latbench spaces`)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: cpu)")
    p.add_argument("--size", choices=SIZES, default="small",
                   help="small: shapes for a quick CPU run; paper: the paper's shapes")
    p.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default=None,
                   help="measure in this dtype instead of the space's")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all)")
    p.add_argument("--out", type=Path, default=DEFAULT_PROFILE_DIR,
                   help="profiles root; the table goes to OUT/<device-slug>/<space>-<size>.csv")
    p.add_argument("--table", type=Path, default=None, help="write to this CSV instead")
    p.add_argument("--budget-ms", type=float, default=1000.0, help="measuring budget per op")
    p.add_argument("--warmup-ms", type=float, default=50.0, help="warm-up budget per op")
    p.add_argument("--target-ci", type=float, default=0.01,
                   help="stop when the median's 95%% CI half-width is below this fraction")
    p.add_argument("--l2-flush", action="store_true", help="CUDA: flush L2 before each sample")
    p.add_argument("--cuda-graph", action="store_true", help="CUDA: time CUDA-graph replays")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    space = get_space(args.space)
    specs = space.ops(args.size)
    if args.dtype:
        specs = [s.replace(dtype=args.dtype) for s in specs]
    cpu_defaults = dict(min_sample_ms=0.5) if args.device == "cpu" else dict(min_sample_ms=0.0)
    config = TimingConfig(warmup_ms=args.warmup_ms, budget_ms=args.budget_ms,
                          target_rel_ci=args.target_ci, **cpu_defaults)
    timer = make_timer(args.device, config, threads=args.threads, l2_flush=args.l2_flush,
                       cuda_graph=args.cuda_graph)
    slug = fingerprint(args.device, threads=args.threads)["slug"]
    path = args.table or default_table_path(slug, space.name, args.size, args.out)
    console.print(f"profiling {len(specs)} ops of [bold]{space.name}[/] ({args.size}) on "
                  f"{slug} -> {path}")
    with progress_bar() as bar:
        task = bar.add_task(space.name, total=len(specs), status="")

        def advance(spec, row) -> None:  # noqa: ANN001
            status = "cached" if row is None else (
                f"{row['latency_median_ms']:.3f} ms" if row["status"] == "ok" else row["status"])
            bar.update(task, advance=1, status=f"{spec.kind}: {status}")

        result = profile_specs(specs, path, timer, on_progress=advance,
                               meta={"space": space.name, "size": args.size})
    console.print(f"measured {len(result.measured)}, already in table {len(result.skipped)}, "
                  f"failed {len(result.failed)} (recorded with their error) -> {path}")
    return 0
