"""``--ray [ADDRESS]`` for the measuring subcommands: the same job, measured on a Ray fleet."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from latbench.cli.measuring import RowAdvancer, run_options
from latbench.errors import LatbenchError
from latbench.tablerun.paths import default_table_path


def add_ray_args(p: argparse.ArgumentParser) -> None:
    """--ray [ADDRESS] and --ray-cpus."""
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="measure on a Ray cluster: ADDRESS of its head (`auto`: the cluster "
        "`ray start` made on this machine), or no value for a local Ray; "
        "workers measure, only this process writes the tables, one table per "
        "device type of the cluster (needs `pip install 'latbench[ray]'`)",
    )
    p.add_argument(
        "--ray-cpus",
        type=int,
        default=None,
        metavar="N",
        help="a local Ray (--ray without ADDRESS) uses N CPUs (default: all)",
    )


def table_chooser(args: argparse.Namespace, name: str) -> Callable[[str], Path]:
    """``slug -> table path``: ``--table`` for a fleet of one device type, else
    ``<--out or tables home>/<slug>/<name>.csv``."""
    chosen: dict[str, Path] = {}

    def table_for(slug: str) -> Path:
        if args.table is not None:
            if chosen and slug not in chosen:
                raise LatbenchError(
                    f"--table {args.table} names one file, but the fleet has "
                    f"devices {', '.join(sorted({*chosen, slug}))}; use --out "
                    "DIR to get one table per device"
                )
            chosen[slug] = args.table
            return args.table
        chosen[slug] = default_table_path(slug, name, args.out)
        return chosen[slug]

    return table_for


def run_fleet(
    args: argparse.Namespace,
    make_job: Any,
    items: list[Any],
    name: str,
    label: Callable[[Any], str],
    value: Callable[[dict[str, Any]], str] | None = None,
    threads: int | None = None,
) -> int:
    """Measure ``items`` with ``make_job`` on the fleet ``args.ray`` names; print the summary."""
    from latbench.cli.ui import console, progress_bar
    from latbench.fleet import connect, node_targets, run_on_fleet

    ray = connect(None if args.ray == "local" else args.ray, args.ray_cpus)
    targets = node_targets(ray, args.device, threads)
    console.print(
        f"Ray fleet: {len(targets)} node(s) with room for a {args.device} task; "
        f"{len(items)} item(s) of {name}"
    )
    options = run_options(args)
    with progress_bar() as bar:
        task = bar.add_task(name, total=len(items), status="")
        advance = RowAdvancer(bar, task, label, value)
        result = run_on_fleet(
            make_job,
            items,
            args.device,
            table_chooser(args, name),
            ray=ray,
            targets=targets,
            threads=threads,
            on_progress=advance,
            on_note=options["on_note"],
            lock_timeout_s=options["lock_timeout_s"],
        )
    console.print(result.summary(), markup=False, highlight=False)
    return 0
