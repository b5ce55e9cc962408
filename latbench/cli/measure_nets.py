"""``latbench measure-nets SPACE``: sample whole networks of a space and time each one."""

from __future__ import annotations

import argparse
from pathlib import Path

from latbench.archs import sample_architectures
from latbench.cli.ui import console, progress_bar
from latbench.device import fingerprint
from latbench.errors import LatbenchError
from latbench.netprofile import default_networks_path, measure_architectures
from latbench.profile import DEFAULT_PROFILE_DIR
from latbench.spaces import SIZES
from latbench.timing import TimingConfig, make_timer


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "measure-nets", help="measure sampled whole networks of a space (checks predictions)",
        description="Sample N architectures of SPACE with SEED, build each as one module and "
                    "time its forward on DEVICE. Rows are appended one by one (a re-run "
                    "resumes). --repeat R measures all N networks R times in successive "
                    "passes (rows repeat=1..R in the same table and protocol): the spread "
                    "between passes is the measurement's own noise floor.")
    p.add_argument("space", help="search space with a sampler (see `latbench spaces`)")
    p.add_argument("--n", type=int, default=200, help="networks to sample (default: 200)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")
    p.add_argument("--size", choices=SIZES, default="small",
                   help="small: networks for a quick CPU run; paper: the paper's shapes")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: cpu)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all)")
    p.add_argument("--repeat", type=int, default=1,
                   help="passes over the networks (2 gives a repeatability noise floor)")
    p.add_argument("--out", type=Path, default=DEFAULT_PROFILE_DIR,
                   help="profiles root; table: OUT/<device-slug>/<space>-<size>.networks.csv")
    p.add_argument("--table", type=Path, default=None, help="write to this CSV instead")
    p.add_argument("--budget-ms", type=float, default=300.0, help="measuring budget per network")
    p.add_argument("--warmup-ms", type=float, default=30.0, help="warm-up budget per network")
    p.add_argument("--target-ci", type=float, default=0.01,
                   help="stop when the median's 95%% CI half-width is below this fraction")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.n < 1 or args.repeat < 1:
        raise LatbenchError(f"--n {args.n} and --repeat {args.repeat} must both be at least 1")
    archs = sample_architectures(args.space, args.n, args.size, args.seed)
    min_sample = 0.5 if args.device == "cpu" else 0.0
    config = TimingConfig(warmup_ms=args.warmup_ms, budget_ms=args.budget_ms,
                          target_rel_ci=args.target_ci, min_sample_ms=min_sample)
    timer = make_timer(args.device, config, threads=args.threads)
    slug = fingerprint(args.device, threads=args.threads)["slug"]
    path = args.table or default_networks_path(slug, args.space, args.size, args.out)
    console.print(f"measuring {len(archs)} networks of [bold]{args.space}[/] ({args.size}, "
                  f"seed {args.seed}) x {args.repeat} pass(es) on {slug} -> {path}")
    with progress_bar() as bar:
        task = bar.add_task(args.space, total=len(archs) * args.repeat, status="")

        def advance(arch, row) -> None:  # noqa: ANN001
            status = "cached" if row is None else (
                f"{row['latency_median_ms']:.3f} ms" if row["status"] == "ok" else row["status"])
            bar.update(task, advance=1, status=f"{len(arch.edges)} ops: {status}")

        result = measure_architectures(archs, path, timer, repeats=args.repeat, size=args.size,
                                       on_progress=advance,
                                       meta={"space": args.space, "size": args.size})
    console.print(f"measured {len(result.measured)}, already in table {len(result.skipped)}, "
                  f"failed {len(result.failed)} (recorded with their error) -> {path}")
    return 0
