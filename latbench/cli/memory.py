"""``latbench memory ARCH|SPACE``: training-time memory, measured (each network in a fresh
process, appended to ``<tables home>/<slug>/memory-<name>.csv``) or predicted by tracing
(``--predict``, no GPU needed; ``--calibrate TABLE`` sets the per-device offset)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from latbench.cli import measuring, ui
from latbench.cli.argtypes import SIZE, OneOf, positive_int, rng_seed
from latbench.cli.modelargs import MODELS_TABLE, add_model_args, model_label, models_or_target
from latbench.errors import LatbenchError

if TYPE_CHECKING:  # building the parser imports neither torch nor pandas; running does
    from latbench.archs import Architecture
    from latbench.memory.steps import Subject, TrainConfig


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "memory",
        help="measure or predict training-time memory",
        description="Training memory of an architecture (JSON file) or of sampled architectures "
        "of a space: measured in a fresh process per network, or predicted (--predict).",
    )
    p.add_argument(
        "target",
        nargs="?",
        help="architecture JSON file, SPACE:SEED[:SIZE] (one sampled architecture, as validate "
        "reads it), or a space name (see `latbench spaces`: --n sampled)",
    )
    add_model_args(p)
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: cpu)")
    p.add_argument("--predict", action="store_true", help="trace and predict; measure nothing")
    p.add_argument(
        "--calibrate",
        type=Path,
        help="memory table of measurements for the per-device offset (--predict)",
    )
    p.add_argument("--n", type=positive_int, default=5, help="architectures to sample from a space")
    p.add_argument(
        "--size",
        type=SIZE,
        help="sampled architectures' size, small or paper (default: the space's own)",
    )
    p.add_argument("--seed", type=rng_seed, default=0, help="seed of the sampled architectures")
    p.add_argument(
        "--optimizer",
        type=OneOf("latbench.memory.steps", "OPTIMIZERS"),
        default="adam",
        help="optimizer of the training steps, sgd, adam or adamw; its state counts "
        "(default: adam)",
    )
    p.add_argument("--batch", type=positive_int, help="batch size (default: the arch's)")
    p.add_argument("--steps", type=positive_int, default=2, help="training steps per measurement")
    p.add_argument("--threads", type=positive_int, default=1, help="CPU: torch threads")
    measuring.add_table_args(p, "latbench.memory")
    measuring.add_ray_args(p)
    p.set_defaults(func=run)


def _subjects(args: argparse.Namespace) -> tuple[str, list[Architecture]]:
    from latbench.archs import Architecture, sample_architectures
    from latbench.spaces import default_size

    models = models_or_target(args, args.target, "an architecture file or SPACE,")
    if models is not None:
        return MODELS_TABLE, models
    path = Path(args.target)
    if path.suffix == ".json" or path.is_file():
        if not path.is_file():
            raise LatbenchError(f"{path}: no such architecture file")
        return path.stem, [Architecture.from_file(path)]
    if ":" in args.target:  # SPACE:SEED[:SIZE], one architecture, as validate reads it
        from latbench.archs.registry import architecture_from_ref

        arch = architecture_from_ref(args.target)
        return arch.name, [arch]
    args.size = args.size or default_size(args.target)
    archs = sample_architectures(args.target, args.n, args.size, args.seed)
    return f"{args.target}-{args.size}", archs


def run(args: argparse.Namespace) -> int:
    from latbench.memory.steps import TrainConfig

    name, archs = _subjects(args)
    config = TrainConfig(optimizer=args.optimizer, batch=args.batch, steps=args.steps)
    if args.predict:
        return _predict(args, archs, config)
    return _measure(args, name, archs, config)


def _label(arch: Architecture) -> str:
    """A traced model's ``SPEC@NxCxHxW``, else the network's ``arch_id`` (the table's key)."""
    from latbench.tablerun.ids import arch_id

    return model_label(arch) if "model" in arch.meta else arch_id(arch)


def _predict(args: argparse.Namespace, archs: list[Architecture], config: TrainConfig) -> int:
    from latbench.memory.table import read_memory_table
    from latbench.predictors.memory import TrainingMemoryPredictor, calibrated

    cpu = args.device == "cpu"
    model = TrainingMemoryPredictor(
        "rss_growth" if cpu else "nvml", config, workspace="cpu" if cpu else "none"
    )
    calibrated(model, read_memory_table(args.calibrate)) if args.calibrate else model.fit([], [])
    rows, parts = [], ""
    for i, (arch, est) in enumerate(zip(archs, model.explain(archs))):
        rows.append(
            (i, _label(arch), len(arch.edges), est.modelled_mib, est.value_mib, est.peak_phase)
        )
        parts = est.parts_text()
    bare = model.target == "nvml" and not model.n_calibration_
    ui.print_table(
        f"predicted training memory ({model.target}, MiB; an estimate"
        f"{', CUDA context NOT included' if bare else ''})",
        ["#", "network", "ops", "modelled_mib", "predicted_mib", "peak phase"],
        rows,
    )
    ui.console.print(f"parts: {parts}")
    return 0


def _measure(
    args: argparse.Namespace, name: str, archs: list[Architecture], config: TrainConfig
) -> int:
    from latbench.device import fingerprint
    from latbench.memory import table as memory_table
    from latbench.tablerun.ids import arch_id

    cpu = args.device == "cpu"
    threads = args.threads if cpu else None
    slug = fingerprint(args.device, threads=threads)["slug"]
    path = args.table or memory_table.default_memory_table(slug, name, args.out)
    options = measuring.run_options(args)
    options.pop("executor")  # each subject runs in its own child process, with a time limit
    limit = measuring.item_timeout_s(args)
    column = memory_table.measured_column(args.device)

    def ops(arch: Architecture) -> str:
        return f"{len(arch.edges)} ops"

    def mib(row: dict[str, Any]) -> str:
        return f"{row.get(column) or 0:.0f} MiB"

    if args.ray is not None:
        from latbench.fleet.jobs import memory_job_factory

        job = memory_job_factory(config, threads, limit)
        return measuring.run_fleet(args, job, archs, f"memory-{name}", ops, mib, threads)

    def measure(subject: Subject) -> dict[str, Any]:
        return memory_table.measure_memory(subject, args.device, config, threads, timeout_s=limit)

    ui.console.print(f"measuring {len(archs)} network(s) on {slug} -> {path}")
    with ui.progress_bar() as bar:
        task = bar.add_task("memory", total=len(archs), status="")
        advance = measuring.RowAdvancer(bar, task, ops, mib)
        rows = memory_table.measure_into_table(
            archs, path, measure, args.device, config, threads=threads, on_row=advance, **options
        )
    failed = sum(r["status"] != "ok" for r in rows)
    _print_measured(rows, cpu, {arch_id(a): _label(a) for a in archs})
    ui.console.print(
        f"measured {len(rows) - failed}, already in table {len(archs) - len(rows)}, "
        f"failed {failed} (recorded with their error) -> {path}",
    )
    return 0


def _print_measured(rows: list[dict], cpu: bool, labels: dict[str, str]) -> None:
    """The rows measured, with the columns this device fills; ``labels``: names by arch_id."""
    from latbench.cli.show import GPU_MEMORY, HEADERS

    cols = ["rss_growth_mib", "rss_peak_mib"] if cpu else GPU_MEMORY.split()
    if not rows:
        return
    ui.print_table(
        "measured training memory (MiB)",
        ["network", *(HEADERS[c] for c in cols), "status"],
        [
            (
                labels.get(r.get("arch_id", ""), r.get("arch_id", r["key"])),
                *("-" if r.get(c) is None else float(r[c]) for c in cols),
                r["status"],
            )
            for r in rows
        ],
    )
