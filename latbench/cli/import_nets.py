"""``latbench import-nets FILE``: published whole-network latencies -> latbench.networks tables."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from latbench.cli import ui
from latbench.cli.argtypes import SIZE, OneOf
from latbench.errors import LatbenchError
from latbench.jsonio import read_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-nets",
        help="import whole-network latencies measured elsewhere (HELP, "
        "HW-NAS-Bench, BRP-NAS files) as networks tables",
        description="Turn a CSV (.csv or .csv.gz) of networks (NAS-Bench-201 arch_str) and one "
        "latency column per device into one latbench.networks table per column, "
        "OUT/<column>/<space>-<size>.networks.csv. Rows say source=imported and the side-car "
        "records origin, license, unit, batch and per batch/image: imported numbers never pass "
        "for measured ones. --format timm reads pytorch-image-models' "
        "results/benchmark-infer-*.csv (model, image size, batch and ms per batch on each row) "
        "into OUT/<file>/timm-published.networks.csv with per-model features counted on the meta "
        "device (docs/timm-import.md).",
    )
    p.add_argument("file", type=Path, help="CSV or CSV.gz with an architecture column")
    p.add_argument(
        "--format",
        choices=("columns", "timm"),
        default="columns",
        help="columns: one latency column per device (HELP, HW-NAS-Bench, BRP-NAS; "
        "default); timm: a pytorch-image-models benchmark-infer CSV",
    )
    p.add_argument(
        "--unit",
        type=OneOf("latbench.importing", "UNITS"),
        help="unit of the latency columns: ms, us or s (required for --format columns: the "
        "file does not say)",
    )
    p.add_argument(
        "--batch",
        action="append",
        metavar="N|COLUMN=N",
        help="batch size the latencies were measured at (required for --format columns): N for "
        "every column, COLUMN=N for one (repeatable, e.g. --batch 1 --batch 1080ti_32=32)",
    )
    p.add_argument(
        "--per",
        type=OneOf("latbench.importing", "PERS"),
        default="batch",
        help="values are per forward pass of the whole batch (default) or per "
        "image; stored per batch",
    )
    p.add_argument("--columns", help="comma-separated latency columns (default: all of them)")
    p.add_argument("--out", type=Path, required=True, help="folder the tables go under")
    p.add_argument(
        "--space", help="space of the architectures (default: the one whose column the header has)"
    )
    p.add_argument(
        "--arch-column",
        default="",
        help="the column holding NAS-Bench-201 genotype strings when it is not "
        "called arch_str (e.g. genotype, arch)",
    )
    p.add_argument(
        "--size",
        type=SIZE,
        default="paper",
        help="network size the file measured: small or paper (default: paper, the benchmark's)",
    )
    p.add_argument(
        "--classes",
        type=int,
        default=10,
        dest="n_classes",
        help="NAS-Bench-201 dataset by its classes: 10, 100 or 120 "
        "(ImageNet16-120, 16x16 input; default 10)",
    )
    p.add_argument(
        "--prune",
        action="store_true",
        help="the runtime removed 'none' edges and dead ops (default: the benchmark's Zero "
        "ops ran)",
    )
    p.add_argument(
        "--disconnected",
        type=OneOf("latbench.importing", "DISCONNECTED"),
        default="drop",
        help="cells with no input-to-output path: drop (default, counted) or keep "
        "(flagged meta.connected=false)",
    )
    p.add_argument("--origin", default="", help="where the file comes from (URL, commit)")
    p.add_argument("--license", default="", help="license notice text to keep with the data")
    p.add_argument(
        "--license-file",
        type=Path,
        help="file holding the license notice (its text goes into the side-car)",
    )
    p.add_argument("--measured-by", default="", help="who measured (e.g. the paper's authors)")
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip bad values and rows instead of stopping; report what was skipped",
    )
    p.add_argument(
        "--features-cache",
        type=Path,
        help="--format timm: CSV of per-model features, read and extended so that importing "
        "another file of the same models builds none again (default: OUT/timm-features.csv)",
    )
    p.add_argument("--force", action="store_true", help="replace existing tables")
    p.set_defaults(func=run, usage_error=p.error)


def _license(args: argparse.Namespace) -> tuple[str, str]:
    if args.license_file is None:
        return args.license, ""
    try:
        text = read_text(args.license_file, "license file").strip()
    except OSError as exc:
        raise LatbenchError(f"{args.license_file}: cannot read license file ({exc})") from None
    if not text:
        raise LatbenchError(f"{args.license_file}: license file is empty; expected the notice")
    return "\n\n".join(t for t in (args.license, text) if t), args.license_file.name


def _batches(values: list[str]) -> tuple[int | None, tuple[tuple[str, int], ...]]:
    default, per_column = None, []
    for value in values:
        column, sep, number = value.rpartition("=")
        try:
            n = int(number)
        except ValueError:
            raise LatbenchError(
                f"--batch {value!r}: expected N or COLUMN=N with an integer N"
            ) from None
        if sep:
            per_column.append((column.strip(), n))
        else:
            default = n
    return default, tuple(per_column)


def run(args: argparse.Namespace) -> int:
    from latbench.importing import ImportOptions, import_networks

    if not args.file.exists():  # before the options: they matter only for a file that is there
        raise LatbenchError(f"{args.file}: no such file")
    if args.format == "timm":
        return _run_timm(args)
    if args.unit is None or not args.batch:
        args.usage_error("--format columns needs --unit and --batch (the file does not say)")
    args.license, args.license_file = _license(args)
    args.batch, args.batches = _batches(args.batch)
    if args.columns is not None:
        named = tuple(c.strip() for c in args.columns.split(",") if c.strip())
        if not named:
            args.usage_error(f"--columns {args.columns!r} names no column")
        args.columns = named
    options = ImportOptions(**{f.name: getattr(args, f.name) for f in fields(ImportOptions)})
    report = import_networks(args.file, args.out, options)
    for column, path in report.tables.items():
        ui.console.print(
            f"{column}: {report.rows[column]} networks ({report.space}, {args.size}, "
            f"batch {options.batch_of(column)}, imported) -> {path}",
            soft_wrap=True,
        )
    if report.disconnected:
        verb = "dropped" if args.disconnected == "drop" else "kept (flagged)"
        ui.console.print(f"disconnected cells {verb}: {report.disconnected} rows")
    if report.skipped:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(report.skipped.items()))
        ui.console.print(
            f"skipped (--skip-bad): {sum(report.skipped.values())} ({counts}); first ones:",
            soft_wrap=True,
        )
        for line in report.examples:
            ui.console.print(f"  {line}", soft_wrap=True)
    if not args.license:
        ui.console.print(
            "note: no --license/--license-file given; keep the data's license "
            "notice with these tables if you share them"
        )
    return 0


TIMM_UNUSED = ("unit", "batch", "columns", "space", "arch_column", "prune")


def _run_timm(args: argparse.Namespace) -> int:
    from latbench.importing_timm import PARAMS_TOLERANCE, import_timm_file

    given = [f"--{name.replace('_', '-')}" for name in TIMM_UNUSED if getattr(args, name)]
    if given:
        raise LatbenchError(
            f"--format timm reads model, image size, batch and ms per batch "
            f"from the file; drop {', '.join(given)}"
        )
    license_text, license_file = _license(args)
    cache = args.features_cache or args.out / "timm-features.csv"

    def progress(done: int, total: int, seconds: float) -> None:
        if done % 100 == 0:
            ui.console.print(f"  features: {done}/{total} models ({seconds:.0f} s)")

    report = import_timm_file(
        args.file,
        args.out,
        features_cache=cache,
        license_text=license_text,
        license_file=license_file,
        origin=args.origin,
        force=args.force,
        progress=progress,
    )
    batches = ", ".join(f"{b}: {n}" for b, n in report.batches.most_common(4))
    ui.console.print(
        f"{report.rows} of {report.read} rows (timm models, imported; batch per "
        f"row: {batches}) -> {report.table}",
        soft_wrap=True,
    )
    ui.console.print(f"features ({report.library}, meta device) cached in {cache}", soft_wrap=True)
    if report.unknown:
        ui.console.print(
            f"skipped {len(report.unknown)} model name(s) {report.library} does not know: "
            f"{', '.join(report.unknown[:8])}{', ...' if len(report.unknown) > 8 else ''}",
            soft_wrap=True,
        )
    if report.failed:
        ui.console.print(
            f"skipped {len(report.failed)} model(s) that do not run on the meta "
            "device; first ones:",
            soft_wrap=True,
        )
        for key, why in list(report.failed.items())[:5]:
            ui.console.print(f"  {key}: {why}", soft_wrap=True)
    if report.changed:
        ui.console.print(
            f"skipped {len(report.changed)} model(s) that {report.library} builds differently "
            f"from the measured one (parameter count off by more than {PARAMS_TOLERANCE:.0%}): "
            + "; ".join(f"{k} ({why})" for k, why in list(report.changed.items())[:5]),
            soft_wrap=True,
        )
    if not license_text:
        ui.console.print(
            "note: no --license/--license-file given; keep the data's license "
            "notice (data/public-latency/timm/LICENSE: Apache-2.0) with these tables"
        )
    return 0
