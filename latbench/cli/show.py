"""``latbench show TABLE``: a table's provenance and its rows."""

from __future__ import annotations

import argparse

from latbench.cli.ui import console, print_table
from latbench.tables import read_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="print a table's device, protocol and rows")
    p.add_argument("table", help="path to a table CSV")
    p.add_argument("--sort", default=None, help="sort rows by this column (descending)")
    p.add_argument("--limit", type=int, default=50, help="rows to print (default 50)")
    p.add_argument("--csv", action="store_true", help="print the rows as CSV instead")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    df = read_table(args.table)
    meta = df.attrs["meta"]
    if args.sort:
        if args.sort not in df.columns:
            from latbench.errors import TableError

            raise TableError(f"--sort {args.sort!r} is not a column of {args.table}; valid: "
                             f"{', '.join(df.columns)}")
        df = df.sort_values(args.sort, ascending=False)
    if args.csv:
        print(df.to_csv(index=False), end="")
        return 0
    fp = meta.get("fingerprint", {})
    console.print(f"[bold]{args.table}[/]: schema {meta['schema']} v{meta['schema_version']}, "
                  f"device {fp.get('slug')} ({fp.get('name')}), protocol {meta.get('protocol_id')}")
    counts = df["status"].value_counts().to_dict() if "status" in df else {}
    console.print(f"{len(df)} rows: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    value_cols = [c for c in ("latency_median_ms", "latency_iqr_ms", "n_samples", "flops",
                              "status", "source", "warnings") if c in df.columns]
    rows = df[["kind", "input_shape", *value_cols]].head(args.limit).itertuples(index=False)
    print_table("rows", ["kind", "input_shape", *value_cols], rows)
    return 0
