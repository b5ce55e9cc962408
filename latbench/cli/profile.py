"""``latbench profile SPACE``: measure a search space's ops into a crash-safe table."""

from __future__ import annotations

import argparse
import fnmatch
import functools
from typing import TYPE_CHECKING

from latbench.cli import measuring, ui
from latbench.cli.argtypes import positive_int, rng_seed
from latbench.cli.modelargs import MODELS_TABLE, add_model_args, models_or_target
from latbench.errors import LatbenchError

if TYPE_CHECKING:  # building the parser imports neither torch nor pandas; running does
    from pathlib import Path

    from latbench.opspec import OpSpec
    from latbench.profile import OpLatencyJob
    from latbench.timing import TimingConfig

COST_NOTE_S = 60.0  # a run estimated to measure longer (seconds) says so first


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "profile",
        help="measure every op of a search space into a table",
        description="Measure every op of SPACE (or of the --model networks) on DEVICE; rows are "
        "appended and flushed one by one under the table's lock, and a re-run on the same machine "
        "resumes where it stopped. Ops are keyed by kind, parameters, shapes and dtype: an op "
        "already in the table (of another model) is not measured again.",
    )
    p.add_argument("space", nargs="?", help="search space (see `latbench spaces`)")
    add_model_args(p)
    p.add_argument(
        "--dtype",
        choices=("float32", "float16", "bfloat16"),
        help="measure in this dtype instead of the space's",
    )
    measuring.add_measuring_args(p, budget_ms=1000.0, warmup_ms=50.0, what="op")
    p.add_argument("--l2-flush", action="store_true", help="CUDA: flush L2 before each sample")
    p.add_argument("--cuda-graph", action="store_true", help="CUDA: time CUDA-graph replays")
    p.add_argument(
        "--match",
        action="append",
        metavar="GLOB",
        help="only ops whose key (kind|params|NxCxHxW|dtype|mode) matches this "
        "glob; repeat for any of several (e.g. '*|1x*' = batch 1)",
    )
    p.add_argument(
        "--sample",
        type=positive_int,
        metavar="N",
        help="measure a seeded random N of the (matched) ops, in listing order",
    )
    p.add_argument("--seed", type=rng_seed, default=0, help="seed of --sample (default: 0)")
    measuring.add_ray_args(p)
    p.set_defaults(func=run)


def select_specs(
    specs: list[OpSpec], match: list[str] | None, sample: int | None, seed: int = 0
) -> list[OpSpec]:
    """The specs whose key matches any glob of ``match`` (all when None), then a seeded
    random ``sample`` of them kept in their listing order. ``LatbenchError`` if none is left."""
    import numpy as np

    if match:
        specs = [s for s in specs if any(fnmatch.fnmatchcase(s.key, g) for g in match)]
    if not specs:
        raise LatbenchError(
            f"--match {' '.join(match or [])}: no op key matches; keys look "
            "like kind|k=v;..|NxCxHxW|float32|infer"
        )
    if sample is not None and sample < len(specs):  # sample >= 1: --sample's type
        keep = np.random.default_rng(seed).choice(len(specs), sample, replace=False)
        specs = [specs[i] for i in sorted(keep)]
    return specs


def still_to_measure(specs: list[OpSpec], path: Path, job: OpLatencyJob) -> list[OpSpec]:
    """``specs`` less those a run of ``job`` into ``path`` skips (as ``run_into_table`` plans)."""
    from latbench.tablerun.driver import planned, resolve_table

    table = resolve_table(path, job.fingerprint, lambda note: None, job.schema)
    return planned(job, specs, table)[0]


def cost_note(n_ops: int, config: TimingConfig, fleet: bool = False) -> str | None:
    """What measuring ``n_ops`` ops costs when over ``COST_NOTE_S``; ``fleet``: on a Ray fleet,
    whose tables this machine cannot see."""
    from latbench.timing.adaptive import bound_ms

    per_op_ms = bound_ms(config, 0.0)
    if n_ops * per_op_ms <= COST_NOTE_S * 1e3:
        return None
    return (
        f"measuring {n_ops} ops takes up to about {n_ops * per_op_ms / 60e3:.0f} min "
        f"({per_op_ms:g} ms each: {config.warmup_ms:g} ms warm-up, {config.budget_ms:g} ms "
        "budget and untimed calls, plus builds; an op slower than the budget takes two "
        f"calls; {FLEET_COUNT if fleet else 'ops already in the table are not counted'}); "
        "--budget-ms, --match or --sample cut it"
    )


FLEET_COUNT = (
    "per device type, shared by its workers; ops already in a device's table are skipped "
    "there but counted here"
)


def _specs(args: argparse.Namespace) -> tuple[list[OpSpec], str, str, dict]:
    """The ops to measure, the table stem, what to call them, and the table's meta."""
    if args.model is not None and args.dtype:
        raise LatbenchError(
            "--dtype: traced --model ops keep the dtypes they were traced "
            "with (float32); leave out --dtype"
        )
    archs = models_or_target(args, args.space)
    if archs is not None:
        ops = dict.fromkeys(op for arch in archs for op in arch.ops())  # shared ops measured once
        return list(ops), MODELS_TABLE, f"{len(archs)} model(s)", {"space": "model"}
    from latbench.spaces import default_size, get_space

    space = get_space(args.space)
    args.size = args.size or default_size(space.name)
    return (
        space.ops(args.size),
        f"{space.name}-{args.size}",
        f"{space.name} ({args.size})",
        {"space": space.name, "size": args.size},
    )


def run(args: argparse.Namespace) -> int:
    from latbench.profile import OpLatencyJob, profile_specs
    from latbench.tablerun.paths import default_table_path

    all_specs, stem, what, meta = _specs(args)
    specs = select_specs(all_specs, args.match, args.sample, args.seed)
    if args.dtype:
        specs = [s.replace(dtype=args.dtype) for s in specs]
    cuda = {"l2_flush": args.l2_flush, "cuda_graph": args.cuda_graph}
    timer, slug = measuring.timer_from_args(args, **cuda)
    path = args.table or default_table_path(slug, stem, args.out)
    fleet = args.ray is not None
    note = cost_note(len(specs), timer.config, fleet)
    if note and not fleet:  # only a run long enough for a note reads the table to plan it
        note = cost_note(len(still_to_measure(specs, path, OpLatencyJob.of(timer))), timer.config)
    if note:
        ui.console.print(f"latbench: {note}", highlight=False)
    if fleet:
        from latbench.fleet.jobs import op_job_factory

        make_job = op_job_factory(timer.config, args.threads, cuda, meta)
        return measuring.run_fleet(
            args, make_job, specs, stem, lambda spec: spec.kind, threads=args.threads
        )
    seed = args.seed if args.sample else None
    meta |= {"match": args.match, "sample": args.sample, "seed": seed}
    header = f"profiling {len(specs)} ops of {what} on {slug} -> {path}"
    measure = functools.partial(profile_specs, specs, path, timer, meta=meta)
    return measuring.measure_locally(
        args, timer, path, header, stem, len(specs), lambda spec: spec.kind, measure
    )
