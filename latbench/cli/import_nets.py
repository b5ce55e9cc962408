"""``latbench import-nets FILE``: published whole-network latencies -> latbench.networks tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from latbench.cli.ui import console
from latbench.errors import LatbenchError
from latbench.choices import DISCONNECTED, PERS, SIZES, UNITS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-nets", help="import whole-network latencies measured elsewhere (HELP, "
                            "HW-NAS-Bench, BRP-NAS files) as networks tables",
        description="Turn a CSV (.csv or .csv.gz) of networks (NAS-Bench-201 arch_str) and "
                    "one latency column per device into one latbench.networks table per "
                    "column, OUT/<column>/<space>-<size>.networks.csv. Rows say "
                    "source=imported and the side-car records origin, license, unit, batch "
                    "and per batch/image: imported numbers never pass for measured ones.")
    p.add_argument("file", type=Path, help="CSV or CSV.gz with an architecture column")
    p.add_argument("--unit", required=True, choices=tuple(UNITS),
                   help="unit of the latency columns (required: the file does not say)")
    p.add_argument("--batch", required=True, action="append", metavar="N|COLUMN=N",
                   help="batch size the latencies were measured at (required): N for every "
                        "column, COLUMN=N for one (repeatable, e.g. --batch 1 --batch "
                        "1080ti_32=32)")
    p.add_argument("--per", choices=PERS, default="batch",
                   help="values are per forward pass of the whole batch (default) or per "
                        "image; stored per batch")
    p.add_argument("--columns", default=None,
                   help="comma-separated latency columns (default: all of them)")
    p.add_argument("--out", type=Path, required=True, help="folder the tables go under")
    p.add_argument("--space", default=None, help="space of the architectures (default: the "
                                                 "one whose column the header has)")
    p.add_argument("--arch-column", default="",
                   help="the column holding NAS-Bench-201 genotype strings when it is not "
                        "called arch_str (e.g. genotype, arch)")
    p.add_argument("--size", choices=SIZES, default="paper",
                   help="network size the file measured (default: paper, the benchmark's)")
    p.add_argument("--classes", type=int, default=10, dest="n_classes",
                   help="NAS-Bench-201 dataset by its classes: 10, 100 or 120 "
                        "(ImageNet16-120, 16x16 input; default 10)")
    p.add_argument("--prune", action="store_true",
                   help="the runtime removed 'none' edges and dead ops (default: the "
                        "benchmark's Zero ops ran)")
    p.add_argument("--disconnected", choices=DISCONNECTED, default="drop",
                   help="cells with no input-to-output path: drop (default, counted) or keep "
                        "(flagged meta.connected=false)")
    p.add_argument("--origin", default="", help="where the file comes from (URL, commit)")
    p.add_argument("--license", default="", help="license notice text to keep with the data")
    p.add_argument("--license-file", type=Path, default=None,
                   help="file holding the license notice (its text goes into the side-car)")
    p.add_argument("--measured-by", default="", help="who measured (e.g. the paper's authors)")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip bad values and rows instead of stopping; report what was skipped")
    p.add_argument("--force", action="store_true", help="replace existing tables")
    p.set_defaults(func=run)


def _license(args: argparse.Namespace) -> tuple[str, str]:
    if args.license_file is None:
        return args.license, ""
    try:
        text = args.license_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise LatbenchError(f"{args.license_file}: cannot read license file ({exc})") from None
    return "\n\n".join(t for t in (args.license, text) if t), args.license_file.name


def _batches(values: list[str]) -> tuple[int | None, tuple[tuple[str, int], ...]]:
    default, per_column = None, []
    for value in values:
        column, sep, number = value.rpartition("=")
        try:
            n = int(number)
        except ValueError:
            raise LatbenchError(f"--batch {value!r}: expected N or COLUMN=N with an integer "
                                "N") from None
        if sep:
            per_column.append((column.strip(), n))
        else:
            default = n
    return default, tuple(per_column)


def run(args: argparse.Namespace) -> int:
    from latbench.importing import ImportOptions, import_networks

    license_text, license_file = _license(args)
    columns = tuple(c.strip() for c in args.columns.split(",") if c.strip()) \
        if args.columns else None
    batch, batches = _batches(args.batch)
    options = ImportOptions(unit=args.unit, batch=batch, batches=batches, per=args.per,
                            space=args.space,
                            size=args.size, n_classes=args.n_classes, prune=args.prune,
                            columns=columns, origin=args.origin, license=license_text,
                            license_file=license_file, measured_by=args.measured_by,
                            disconnected=args.disconnected, skip_bad=args.skip_bad,
                            arch_column=args.arch_column,
                            force=args.force)
    report = import_networks(args.file, args.out, options)
    for column, path in report.tables.items():
        console.print(f"{column}: {report.rows[column]} networks ({report.space}, {args.size}, "
                      f"batch {options.batch_of(column)}, imported) -> {path}", soft_wrap=True)
    if report.disconnected:
        verb = "dropped" if args.disconnected == "drop" else "kept (flagged)"
        console.print(f"disconnected cells {verb}: {report.disconnected} rows")
    if report.duplicates:
        console.print(f"{report.duplicates} rows repeat an architecture already in the file; "
                      "both are kept, readers use the last one", soft_wrap=True)
    if report.skipped:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(report.skipped.items()))
        console.print(f"skipped (--skip-bad): {sum(report.skipped.values())} ({counts}); "
                      "first ones:", soft_wrap=True)
        for line in report.examples:
            console.print(f"  {line}", markup=False, soft_wrap=True)
    if not license_text:
        console.print("note: no --license/--license-file given; keep the data's license "
                      "notice with these tables if you share them")
    return 0
