"""``latbench devices``: the devices latbench can measure here, with their fingerprints."""

from __future__ import annotations

import argparse
import json

from latbench.cli import ui


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="list measurable devices and their fingerprints")
    p.add_argument("--json", action="store_true", help="print the full fingerprints as JSON")
    p.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        metavar="ADDRESS",
        help="list the devices of every node of a Ray cluster instead (default "
        "ADDRESS: auto, the cluster `ray start` made on this machine)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.ray is not None:
        from latbench.fleet.cluster import connect, fleet_devices

        found = fleet_devices(connect(args.ray))
        if args.json:
            ui.console.print_json(json.dumps([{"node": node, **fp} for node, fp in found]))
            return 0
        rows = [(node, fp["device"], fp["slug"], fp["name"]) for node, fp in found]
        header = ["node", "device", "slug (table folder)", "name"]
        ui.print_table("devices of the Ray fleet", header, rows)
        return 0
    import torch

    from latbench.device import fingerprint

    names = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    prints = [fingerprint(n) for n in names]
    if args.json:
        ui.console.print_json(json.dumps(dict(zip(names, prints))))
        return 0
    rows = [
        (
            n,
            fp["slug"],
            fp["name"],
            f"{fp.get('torch_threads', '')} threads"
            if fp["kind"] == "cpu"
            else f"{fp['memory_mib']} MiB, sm_{fp['compute_capability'].replace('.', '')}",
        )
        for n, fp in zip(names, prints)
    ]
    ui.print_table("devices", ["device", "slug (device_profiles/ folder)", "name", "details"], rows)
    if len(names) == 1:
        ui.console.print("no CUDA device visible (torch.cuda.is_available() is False)")
    return 0
