"""``latbench measure-nets SPACE``: sample whole networks of a space and time each one."""

from __future__ import annotations

import argparse
from pathlib import Path

from latbench.cli.argtypes import nonnegative_int, positive_int
from latbench.cli.fleet import add_ray_args, run_fleet
from latbench.cli.measuring import (
    add_measuring_args,
    row_advancer,
    run_options,
    set_drift_nominal,
    timer_from_args,
)
from latbench.cli.modelargs import MODELS_TABLE, add_model_args, model_architectures
from latbench.errors import LatbenchError, TableError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "measure-nets",
        help="measure sampled whole networks of a space (checks predictions)",
        description="Sample N architectures of SPACE with SEED, build each as one module and "
        "time its forward on DEVICE. Rows are appended one by one (a re-run "
        "resumes). --repeat R measures all N networks R times (rows repeat=1..R "
        "in the same table and protocol; with --rounds > 1 the passes are "
        "interleaved round by round, else one pass after the other): the spread "
        "between passes is the measurement's own noise floor. With --model, the "
        "given networks instead, each a row keyed by model name and input shape.",
    )
    p.add_argument("space", nargs="?", help="search space with a sampler (see `latbench spaces`)")
    add_model_args(p)
    p.add_argument("--n", type=positive_int, default=200, help="networks to sample (default: 200)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="sampling seed (default: 0)")
    p.add_argument(
        "--repeat",
        type=positive_int,
        default=1,
        help="passes over the networks (2 gives a repeatability noise floor)",
    )
    add_measuring_args(
        p, budget_ms=300.0, warmup_ms=30.0, what="network", schema="latbench.networks"
    )
    add_ray_args(p)
    p.set_defaults(func=run)


def other_spaces_note(path: Path | None, space: str) -> str:
    """One line when the networks table at ``path`` already holds networks of other spaces
    than ``space`` (a table may hold several; "" when not, or no such table)."""
    from latbench.tables import read_table

    if path is None or not path.is_file():
        return ""
    try:
        held = read_table(path)
    except TableError:
        return ""  # measuring reports an unreadable table itself, naming it
    spaces = sorted(set(held["space"].dropna().astype(str))) if "space" in held else []
    if not [s for s in spaces if s != space]:
        return ""
    return (
        f"note: {path} already holds networks of {', '.join(spaces)}; this run adds "
        f"{space} networks (a table may hold several spaces; fit/evaluate read every row)"
    )


def run(args: argparse.Namespace) -> int:
    from latbench.cli.ui import console, progress_bar

    if args.n < 1 or args.repeat < 1:
        raise LatbenchError(f"--n {args.n} and --repeat {args.repeat} must both be at least 1")
    from latbench.archs import sample_architectures  # torch: when measuring, not for --help
    from latbench.netprofile import default_networks_path, measure_architectures
    from latbench.spaces import default_size

    if (args.space is None) == (args.model is None):
        raise LatbenchError("give a SPACE or --model SPEC (one of them)")
    if args.model is not None:
        return _measure_models(args)
    args.size = args.size or default_size(args.space)
    archs = sample_architectures(args.space, args.n, args.size, args.seed)
    timer, slug = timer_from_args(args)
    path = (
        args.table
        if args.ray is not None
        else (args.table or default_networks_path(slug, args.space, args.size, args.out))
    )
    note = other_spaces_note(path, args.space)
    if note:
        console.print(note, markup=False)
    if args.ray is not None:
        from latbench.fleet.jobs import network_job_factory

        make_job = network_job_factory(
            timer.config, args.threads, args.size, {"space": args.space, "size": args.size}
        )
        items = [(arch, r) for r in range(1, args.repeat + 1) for arch in archs]
        return run_fleet(
            args,
            make_job,
            items,
            f"{args.space}-{args.size}.networks",
            lambda item: f"{len(item[0].edges)} ops",
            threads=args.threads,
        )
    set_drift_nominal(timer, args, path)
    console.print(
        f"measuring {len(archs)} networks of [bold]{args.space}[/] ({args.size}, "
        f"seed {args.seed}) x {args.repeat} pass(es) on {slug} -> {path}"
    )
    with progress_bar() as bar:
        task = bar.add_task(args.space, total=len(archs) * args.repeat, status="")
        advance = row_advancer(bar, task, lambda arch: f"{len(arch.edges)} ops")
        result = measure_architectures(
            archs,
            path,
            timer,
            repeats=args.repeat,
            size=args.size,
            on_progress=advance,
            on_round=advance.on_round,
            meta={"space": args.space, "size": args.size},
            **run_options(args),
        )
    console.print(
        f"measured {len(result.measured)}, already in table {len(result.skipped)}, "
        f"failed {len(result.failed)} (recorded with their error) -> {result.path}"
    )
    return 0


def _measure_models(args: argparse.Namespace) -> int:
    """``--model``: each traced model measured whole into ``<device>/models.networks.csv``."""
    from latbench.cli.ui import console, progress_bar
    from latbench.netprofile import measure_architectures
    from latbench.tablerun.paths import default_table_path

    if args.ray is not None:
        raise LatbenchError(
            "--ray with --model is not supported yet; measure models on this machine"
        )
    archs = model_architectures(args)
    timer, slug = timer_from_args(args)
    path = args.table or default_table_path(slug, f"{MODELS_TABLE}.networks", args.out)
    set_drift_nominal(timer, args, path)
    console.print(
        f"measuring {len(archs)} model(s) whole x {args.repeat} pass(es) on {slug} -> {path}"
    )
    with progress_bar() as bar:
        task = bar.add_task("models", total=len(archs) * args.repeat, status="")
        advance = row_advancer(bar, task, lambda arch: arch.name)
        result = measure_architectures(
            archs,
            path,
            timer,
            repeats=args.repeat,
            on_progress=advance,
            on_round=advance.on_round,
            meta={"space": "model"},
            **run_options(args),
        )
    console.print(
        f"measured {len(result.measured)}, already in table {len(result.skipped)}, "
        f"failed {len(result.failed)} (recorded with their error) -> {result.path}"
    )
    return 0
