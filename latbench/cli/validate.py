"""``latbench validate ARCH``: measured vs predicted latency per backend, against a budget.

ARCH is a path to an architecture JSON file (``Architecture.to_json()``), ``SPACE:SEED[:SIZE]``
to sample one (``nasbench201:0``, ``nasbench201:0:paper``; SIZE defaults to small), a model of
your own (``timm:NAME``, ``torchvision:NAME``, ``package.module:callable``,
``path/to/file.py:callable``, with --input-shape), or an ``.onnx`` file (ort, ort-trt, trt only:
there is no PyTorch model to compare with; ONNX Runtime on the CPU is the reference).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from latbench.cli.argtypes import (
    OneOf,
    comma_separated,
    nonnegative_int,
    positive_float,
    positive_int,
)
from latbench.cli.modelargs import add_model_args, model_architectures, refuse_model_args
from latbench.errors import LatbenchError

if TYPE_CHECKING:
    from latbench.archs import Architecture
    from latbench.deploy.report import ValidationReport
    from latbench.protocol_registry import Protocol
from latbench.cli import ui
from latbench.papers import STNAS_FPS_FRAMES as PAPER_FRAMES  # ST-NAS and dynamic cells


def load_network_predictor(path: Path, device_slug: str | None = None) -> Any:
    """A saved predictor of whole networks' latency (warned about when fitted on another
    device); a predictor of ops, of memory (MiB) or a prior is refused in one line."""
    from latbench.predictors.base import input_level
    from latbench.predictors.device_prior import refuse_prior
    from latbench.predictors.persist import load

    model = load(path, device=device_slug)
    refuse_prior(model, path)
    unit = getattr(model, "unit", "ms")
    if input_level(model) != "network" or unit != "ms":
        what = "ops" if input_level(model) != "network" else f"networks in {unit}"
        raise LatbenchError(
            f"{path}: is a {type(model).__name__}, which predicts {what}; this command needs "
            "a network latency predictor (`latbench fit OPS --networks NETS`, or a transfer "
            "predictor `latbench fit --transfer-from`)"
        )
    return model


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="export an architecture and check it on torch/ORT/TRT",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "arch",
        metavar="ARCH",
        help="architecture JSON file, SPACE:SEED[:SIZE], a model (timm:NAME, torchvision:NAME, "
        "module:callable, file.py:callable) or an .onnx file",
    )
    p.add_argument(
        "--backend",
        type=comma_separated(OneOf("latbench.deploy.runners", "BACKENDS")),
        default=["torch", "ort"],
        help="comma-separated backends (default: torch,ort; a wrong name lists the others)",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: cpu)")
    p.add_argument(
        "--budget-ms", type=positive_float, help="latency budget; RT-DNAS uses 50 (default: none)"
    )
    p.add_argument(
        "--min-fps", type=positive_float, help="throughput floor; RT-DNAS uses 22 (default: none)"
    )
    p.add_argument(
        "--predictor", type=Path, help="saved network predictor (JSON); without it: 'no prediction'"
    )
    p.add_argument(
        "--precision",
        choices=("fp32", "fp16"),
        default="fp32",
        help="precision of the deployed model (default: fp32)",
    )
    p.add_argument(
        "--threads",
        type=nonnegative_int,
        default=1,
        help="CPU threads of torch and ONNX Runtime (default: 1, as `profile`; "
        "0: the libraries' own default)",
    )
    p.add_argument("--cuda-graph", action="store_true", help="torch: time CUDA-graph replays")
    p.add_argument(
        "--transfers",
        action="store_true",
        help="ORT/TRT on GPU: include host<->device copies in the timed region",
    )
    p.add_argument(
        "--opset", type=positive_int, help="ONNX opset (default: the exporter's DEFAULT_OPSET)"
    )
    p.add_argument(
        "--measure-ms",
        type=positive_float,
        default=2000.0,
        help="time spent measuring each backend (default: 2000)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("validate-out"),
        help="folder for the ONNX file, engine caches and the reports",
    )
    p.add_argument("--json", action="store_true", help="print the JSON report to stdout")
    p.add_argument(
        "--skip-unavailable",
        action="store_true",
        help="record a backend whose package is missing instead of failing",
    )
    p.add_argument(
        "--protocol",
        metavar="NAME",
        help="a registered deployment protocol: a paper's (rtdnas, stnas, dyncell: "
        "docs/validate.md) or a plugin's; an unknown NAME lists the valid ones",
    )
    p.add_argument(
        "--n-frames",
        type=positive_int,
        default=PAPER_FRAMES,
        help=f"frame protocols (stnas, dyncell): frames timed (default: {PAPER_FRAMES})",
    )
    p.add_argument(
        "--static",
        help="frame protocols (dyncell): the full network for the first frame (JSON or SPACE:SEED)",
    )
    p.add_argument(
        "--encoder-depths",
        type=comma_separated(positive_int),
        metavar="D1,D2,...",
        help="stnas protocol: Swin encoder blocks kept per stage, e.g. 1,2,3,2 (`search stnas` "
        "prints them; default: the decoder's meta encoder_depths, else full depth)",
    )
    add_model_args(p, model_flag=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latbench.archs import Architecture
    from latbench.deploy.validate import ValidateOptions, timing_config, validate, validate_onnx
    from latbench.models import parse_input_shape
    from latbench.protocol_registry import get_protocol

    if args.encoder_depths is not None and args.protocol != "stnas":
        raise LatbenchError(
            "--encoder-depths: the blocks per stage of the encoder the stnas protocol times; "
            "give it with --protocol stnas"
        )
    path = Path(args.arch)
    onnx = path.suffix.lower() == ".onnx"  # ONNX Runtime on the CPU is the reference
    if onnx and (args.predictor is not None or args.protocol is not None):
        raise LatbenchError(
            f"{path}: --predictor and --protocol need a network latbench can decompose; "
            "give the model (timm:NAME, file.py:callable, ...) instead of its ONNX file"
        )
    if onnx and args.leaf:
        raise LatbenchError(f"{path}: --leaf splits a traced model; an ONNX file runs whole")
    if path.suffix.lower() in (".json", ".onnx") and not path.is_file():
        raise LatbenchError(f"{path}: no such file (ARCH names an architecture JSON or ONNX file)")
    protocol = get_protocol(args.protocol) if args.protocol else None
    arch: Architecture | None = None
    if not onnx:
        arch = Architecture.from_file(path) if path.is_file() else _resolve(args)
        if getattr(args, "model", None) is None:  # _resolve sets it for a model of the user's
            refuse_model_args(args, args.arch)
    if arch is not None and protocol is not None:
        protocol.check_space(arch)
        if protocol.run is not None:
            return _frame_protocol(args, arch, protocol)
        assert protocol.limits is not None
        budget_ms, min_fps = protocol.limits
        args.budget_ms = budget_ms if args.budget_ms is None else args.budget_ms
        args.min_fps = min_fps if args.min_fps is None else args.min_fps
    options = ValidateOptions(
        device=args.device,
        precision=args.precision,
        threads=args.threads or None,
        cuda_graph=args.cuda_graph,
        transfers=args.transfers,
        **({"opset": args.opset} if args.opset else {}),
        out_dir=args.out,
        skip_unavailable=args.skip_unavailable,
    )
    limits: dict[str, Any] = {"budget_ms": args.budget_ms, "min_fps": args.min_fps}
    limits |= {"options": options, "config": timing_config(args.device, args.measure_ms)}
    if arch is None:
        shape = parse_input_shape(args.input_shape) if args.input_shape else None
        _print_start(args, str(path))
        report = validate_onnx(path, args.backend, input_shape=shape, **limits)
        note = (
            "  outputs compared with ONNX Runtime on the CPU (an ONNX file has no PyTorch model; "
            "`max |out - torch|` is against it)"
        )
        return _finish(args, report, path.name, "onnx", note)
    _print_start(args, f"{arch.name or arch.space} ({len(arch.edges)} ops)")
    loader = load_network_predictor
    report = validate(arch, args.backend, predictor=args.predictor, load_predictor=loader, **limits)
    return _finish(args, report, arch.name or arch.space, arch.space)


def _print_start(args: argparse.Namespace, what: str) -> None:
    if not args.json:
        ui.console.print(f"validating {what} on {args.device}: {', '.join(args.backend)}")


def _finish(
    args: argparse.Namespace, report: ValidationReport, stem: str, subdir: str, note: str = ""
) -> int:
    """Write the report as JSON and Markdown into ``--out``, print it (``note`` last); a failed
    backend is an error, a missed budget exit 1."""
    from latbench.atomic import write_atomically
    from latbench.deploy.report import gap_basis
    from latbench.paths import file_in

    args.out.mkdir(parents=True, exist_ok=True)
    json_path = file_in(args.out, stem, ".report.json", subdir)
    md_path = file_in(args.out, stem, ".report.md", subdir)
    write_atomically(json_path, report.to_json() + "\n")
    write_atomically(md_path, report.to_markdown())
    if args.json:
        print(report.to_json())
    else:
        limits = [
            f"<= {report.budget_ms:g} ms" if report.budget_ms is not None else "",
            f">= {report.min_fps:g} FPS" if report.min_fps is not None else "",
        ]
        title = ", ".join(filter(None, limits)) or "no budget given"
        ui.print_table(f"measured vs predicted ({title})", report.columns(), report.rows())
        for b in report.backends:
            if b.status == "ok":
                ui.console.print(
                    f"  {b.backend}: precision {b.info['precision']}, batch {b.info['batch']}, "
                    f"transfers included: {b.info['transfers_included']}, timer "
                    f"{b.info['timer']}, max |out - torch| {b.max_abs_diff:.3g}",
                )
        if len(report.clocks) == 1:
            ui.console.print(f"  {report.clock_line}")
        for line in report.notes():
            ui.console.print(f"  {line}")
        if gap_basis(report.prediction):
            ui.console.print(f"  prediction{gap_basis(report.prediction)}")
        ui.console.print(f"overall: {report.verdict}; reports: {json_path}, {md_path}")
        if note:
            ui.console.print(note)
    failed = [b for b in report.backends if b.status == "failed"]
    if failed:
        raise LatbenchError("; ".join(f"{b.backend}: {b.error}" for b in failed))
    return 1 if report.passed is False else 0


def _frame_protocol(args: argparse.Namespace, arch: Architecture, protocol: Protocol) -> int:
    """A frame protocol's result on --device, printed and saved with the device's fingerprint,
    the torch thread count (CPU) and the busy-machine warning."""
    import json

    import torch

    from latbench.atomic import write_atomically
    from latbench.deploy.protocols import ProtocolOptions
    from latbench.deploy.validate import busy_warnings, resolve_architecture
    from latbench.device import fingerprint
    from latbench.paths import file_in

    if not args.json:
        ui.console.print(
            f"{args.protocol} protocol: {arch.name or arch.space} on "
            f"{args.device}, {args.n_frames} frames"
        )
    if args.threads:
        torch.set_num_threads(args.threads)
    static = resolve_architecture(args.static) if args.static else None
    options = ProtocolOptions(args.device, args.n_frames, static, args.encoder_depths)
    result = protocol.runner()(arch, options)
    cpu = args.device.startswith("cpu")
    threads = torch.get_num_threads() if cpu else None
    out = result.to_dict() | {
        "fingerprint": fingerprint(args.device, threads=threads),
        "threads": threads,
        "warnings": busy_warnings() if cpu else [],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = file_in(args.out, arch.name or arch.space, f".{args.protocol}.json", arch.space)
    write_atomically(path, json.dumps(out, indent=2) + "\n")
    if args.json:
        print(json.dumps(out))
        return 0
    rows = [("per frame", out["frame_mean_ms"], out["frame_std_ms"], out["fps"])]
    if "first_frame_ms" in out:
        rows += [
            ("first frame (full)", out["first_frame_ms"], "", ""),
            ("following frames", out["following_mean_ms"], out["following_std_ms"], ""),
        ]
    ui.print_table(
        f"{args.protocol} protocol ({out['timer']})", ["frames", "mean ms", "std ms", "FPS"], rows
    )
    in_threads = f", {threads} torch thread(s)" if threads else ""
    ui.console.print(f"  device {out['fingerprint'].get('slug')}{in_threads}")
    for note in result.notes:
        ui.console.print(f"  note: {note}")
    for warning in out["warnings"]:
        ui.console.print(f"  {warning}")
    ui.console.print(f"report: {path}")
    return 0


def _resolve(args: argparse.Namespace) -> Architecture:
    """SPACE:SEED[:SIZE] when the part before ':' is a space or a seed follows it (a model
    spec names a callable there, never a number), else a model spec."""
    from latbench.deploy.validate import resolve_architecture
    from latbench.spaces import list_spaces

    head, _, rest = args.arch.partition(":")
    if head in list_spaces() or (
        head not in ("timm", "torchvision") and rest.split(":")[0].lstrip("-").isdigit()
    ):
        return resolve_architecture(args.arch)
    args.model = args.arch
    return model_architectures(args)[0]
