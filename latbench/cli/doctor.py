"""``latbench doctor``: the GPU's compute capability, which tensorrt / onnxruntime-gpu / torch
builds still support it (with the release notes that say so), what is installed here, a
verdict per package and the pip command to run where the installed version does not fit.

Exit code 1 when an installed package does not support the GPU, else 0 (also with --json)."""

from __future__ import annotations

import argparse
import json

from latbench.cli import ui
from latbench.cli.argtypes import positive_float


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="which TensorRT / onnxruntime-gpu / torch fit this GPU",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--cc",
        type=positive_float,
        help="ask about compute capability X.Y instead of the GPUs here (e.g. 6.1)",
    )
    p.add_argument(
        "--json", action="store_true", help="print the findings (checks, sources, commands) as JSON"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latbench.deploy.doctor import diagnose

    found = diagnose(args.cc)
    if args.json:
        print(json.dumps(found, indent=1, sort_keys=True))
        return found["exit_code"]
    if found["gpus"]:
        ui.print_table(
            "GPUs",
            ["index", "name", "compute capability", "seen by"],
            [(g["index"], g["name"], g["cc"], g["via"]) for g in found["gpus"]],
        )
    elif found["note"]:
        ui.console.print(found["note"])
    ui.print_table("installed", ["package", "version"], sorted(found["installed"].items()))
    support = [
        (c["cc"], c["package"], c["installed"] or "-", c["supported"] or "none", c["verdict"])
        for c in found["checks"]
    ]
    if support:
        header = ["cc", "package", "installed", "versions that support it", "verdict"]
        ui.print_table("support", header, support)
    for c in found["checks"]:
        if c["note"]:
            ui.console.print(f"{c['package']}: {c['note']}")
        if c["command"]:
            ui.console.print(f"{c['package']}: run  {c['command']}")
    rows = [
        (c["package"], r["versions"], r["cc"], r["source"])
        for c in found["checks"]
        for r in c["rows"]
    ]
    if rows:
        ui.print_table(
            "releases that run on it, with sources", ["package", "versions", "cc", "source"], rows
        )
    return found["exit_code"]
