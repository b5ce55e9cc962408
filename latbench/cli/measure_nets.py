"""``latbench measure-nets SPACE``: sample whole networks of a space and time each one."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from latbench.cli import measuring, ui
from latbench.cli.argtypes import positive_int, rng_seed
from latbench.cli.modelargs import MODELS_TABLE, add_model_args, models_or_target
from latbench.errors import LatbenchError, TableError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "measure-nets",
        help="measure sampled whole networks of a space (checks predictions)",
        description="Sample N architectures of SPACE with SEED, build each as one module and time "
        "its forward on DEVICE. Rows are appended one by one (a re-run resumes). --repeat R "
        "measures all N networks R times (rows repeat=1..R in the same table and protocol; with "
        "--rounds > 1 the passes are interleaved round by round, else one pass after the other): "
        "the spread between passes is the measurement's own noise floor. With --model, the given "
        "networks instead, each a row keyed by model name and input shape.",
    )
    p.add_argument("space", nargs="?", help="search space with a sampler (see `latbench spaces`)")
    add_model_args(p)
    p.add_argument("--n", type=positive_int, default=200, help="networks to sample (default: 200)")
    p.add_argument("--seed", type=rng_seed, default=0, help="sampling seed (default: 0)")
    p.add_argument(
        "--repeat",
        type=positive_int,
        default=1,
        help="passes over the networks (2 gives a repeatability noise floor)",
    )
    measuring.add_measuring_args(
        p, budget_ms=300.0, warmup_ms=30.0, what="network", schema="latbench.networks"
    )
    measuring.add_ray_args(p)
    p.set_defaults(func=run)


def other_spaces_note(path: Path | None, space: str) -> str:
    """A note when the networks table at ``path`` holds networks of spaces other than
    ``space``, else ""."""
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
    from latbench.archs import sample_architectures
    from latbench.netprofile import default_networks_path, measure_architectures
    from latbench.spaces import default_size
    from latbench.tablerun.ids import arch_id
    from latbench.tablerun.paths import default_table_path

    if args.model is not None and args.ray is not None:
        raise LatbenchError(
            "--ray with --model is not supported yet; measure models on this machine"
        )
    archs = models_or_target(args, args.space)
    timer, slug = measuring.timer_from_args(args)
    if archs is not None:
        path = args.table or default_table_path(slug, f"{MODELS_TABLE}.networks", args.out)
        what, meta = f"{len(archs)} model(s) whole", {"space": "model"}
    else:
        args.size = args.size or default_size(args.space)
        archs = sample_architectures(args.space, args.n, args.size, args.seed)
        path = args.table
        if args.ray is None:
            path = path or default_networks_path(slug, args.space, args.size, args.out)
        note = other_spaces_note(path, args.space)
        if note:
            ui.console.print(note)
        what = f"{len(archs)} networks of {args.space} ({args.size}, seed {args.seed})"
        distinct = len({arch_id(a) for a in archs})
        if distinct < len(archs):  # the sampler draws with replacement; a repeat is measured once
            what += f", {distinct} distinct (each measured once: the rest count as in the table)"
        meta = {"space": args.space, "size": args.size}
    if args.ray is not None:
        from latbench.fleet.jobs import network_job_factory

        make_job = network_job_factory(timer.config, args.threads, args.size, meta)
        items = [(arch, r) for r in range(1, args.repeat + 1) for arch in archs]
        return measuring.run_fleet(
            args,
            make_job,
            items,
            f"{args.space}-{args.size}.networks",
            lambda item: f"{len(item[0].edges)} ops",
            threads=args.threads,
        )
    header = f"measuring {what} x {args.repeat} pass(es) on {slug} -> {path}"
    size = meta.get("size", "")
    measure = functools.partial(
        measure_architectures, archs, path, timer, repeats=args.repeat, size=size, meta=meta
    )
    label = (lambda arch: arch.name) if args.model else (lambda arch: f"{len(arch.edges)} ops")
    task = "models" if args.model else args.space
    total = len(archs) * args.repeat
    return measuring.measure_locally(args, timer, path, header, task, total, label, measure)
