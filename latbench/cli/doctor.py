"""``latbench doctor``: the GPU's compute capability, which tensorrt / onnxruntime-gpu / torch
builds still support it, what is installed here, and a verdict per package."""

from __future__ import annotations

import argparse
import json

from latbench.cli.ui import console, print_table
from latbench.deploy.doctor import diagnose


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="which TensorRT / onnxruntime-gpu / torch fit this GPU",
                       description=__doc__)
    p.add_argument("--cc", type=float, default=None,
                   help="ask about compute capability X.Y instead of the GPUs here (e.g. 6.0)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = diagnose(args.cc)
    if args.json:
        print(json.dumps(found, indent=1, sort_keys=True))
        return 0
    if found["gpus"]:
        print_table("GPUs", ["index", "name", "compute capability", "seen by"],
                    [(g["index"], g["name"], g["cc"], g["via"]) for g in found["gpus"]])
    else:
        console.print("no GPU visible here (torch.cuda and NVML see none)")
    print_table("installed", ["package", "version"], sorted(found["installed"].items()))
    if found["checks"]:
        print_table("support", ["cc", "package", "installed", "versions that support it",
                                "verdict"],
                    [(c["cc"], c["package"], c["installed"] or "-", c["supported"] or "none",
                      c["verdict"]) for c in found["checks"]])
    elif found["note"]:
        console.print(found["note"])
    bad = [c for c in found["checks"] if c["verdict"].startswith("unsupported")]
    return 1 if bad else 0
