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
    # Tables of every schema share the statistics columns; show the identity columns each has.
    wanted = ("kind", "space", "genotype", "input_shape", "repeat", "latency_median_ms",
              "latency_iqr_ms", "peak_reserved_mib", "peak_allocated_mib", "n_samples", "flops",
              "status", "source")
    cols = [c for c in wanted if c in df.columns]
    rows = df[cols].head(args.limit).itertuples(index=False)
    print_table("rows", cols, rows)
    flagged = int((df.get("warnings", "") != "").sum()) if "warnings" in df else 0
    if flagged:
        console.print(f"{flagged} row(s) carry measurement warnings (see the 'warnings' column, "
                      "--csv)")
    return 0
