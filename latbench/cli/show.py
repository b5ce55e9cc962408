"""``latbench show TABLE``: a table's provenance and its rows."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from latbench.cli import ui
from latbench.cli.argtypes import nonnegative_int
from latbench.errors import LatbenchError, TableError

if TYPE_CHECKING:
    import pandas as pd

HEADERS = {
    "op_params": "params",
    "input_shape": "shape",
    "latency_median_ms": "median ms",
    "latency_min_ms": "fastest ms",
    "latency_iqr_ms": "IQR ms",
    "n_samples": "n",
    "repeat": "rep",
    "n_ops": "ops",
    "rss_growth_mib": "RSS growth MiB",
    "rss_peak_mib": "RSS peak MiB",
    "nvml_process_mib": "NVML proc MiB",
    "nvml_device_delta_mib": "NVML dev delta MiB",
    "peak_reserved_mib": "reserved MiB",
    "peak_allocated_mib": "allocated MiB",
    "context_mib": "context MiB",
    "sim_peak_reserved_mib": "modelled reserved MiB",
}
"""Column -> header where a printed table names it otherwise."""
GPU_MEMORY = (
    "nvml_process_mib nvml_device_delta_mib peak_reserved_mib peak_allocated_mib context_mib"
)
_TIMES = "latency_median_ms latency_min_ms latency_iqr_ms n_samples status"
_VIEWS = {  # each schema's columns shown; empty ones are left out
    "latbench.latency": f"kind op_params input_shape {_TIMES} source".split(),
    "latbench.networks": f"space arch_id repeat n_ops {_TIMES}".split(),
    "latbench.memory": f"subject arch_id kind batch rss_growth_mib {GPU_MEMORY} "
    "sim_peak_reserved_mib status source".split(),
}


def display_frame(df: pd.DataFrame, schema: str) -> pd.DataFrame:
    """The schema's view less columns empty in every row, op params compacted, status/source
    only when they say something other than ok/measured."""
    import pandas as pd

    out = {}
    for column in _VIEWS.get(schema, _VIEWS["latbench.latency"]):
        values = df.get(column)
        if values is None or values.isna().all() or (values.astype(str) == "").all():
            continue
        if column in ("status", "source") and set(values.astype(str)) <= {"ok", "measured"}:
            continue
        if column == "op_params":
            values = pd.Series([_params(k, t) for k, t in zip(df["kind"], values)], index=df.index)
        out[HEADERS.get(column, column)] = values
    return pd.DataFrame(out)


def _params(kind: object, text: object) -> str:
    """'{"kernel": 5, "stride": 1, ...}' -> 'kernel=5': the parameters off the kind's defaults."""
    params = json.loads(str(text)) if text else {}
    try:
        from latbench.ops import get_op_kind

        defaults = dict(get_op_kind(str(kind)).defaults)
    except LatbenchError:
        defaults = {}
    return " ".join(f"{k}={v}" for k, v in params.items() if k not in defaults or defaults[k] != v)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:.0f}" if value.is_integer() and abs(value) < 1e6 else f"{value:.4g}"
    return str(value)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="print a table's device, protocol and rows")
    p.add_argument("table", help="path to a table CSV")
    p.add_argument("--sort", help="sort rows by this column (descending)")
    p.add_argument("--limit", type=nonnegative_int, default=50, help="rows to print (default 50)")
    p.add_argument("--csv", action="store_true", help="print the rows as CSV instead")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from latbench.tables import read_table

    df = read_table(args.table)
    meta = df.attrs["meta"]
    if args.sort:
        if args.sort not in df.columns:
            raise TableError(
                f"--sort {args.sort!r} is not a column of {args.table}; valid: "
                f"{', '.join(df.columns)}"
            )
        df = df.sort_values(args.sort, ascending=False)
    if args.csv:
        print(df.to_csv(index=False), end="")
        return 0
    fp = meta.get("fingerprint", {})
    ui.console.print(
        f"{args.table}: schema {meta['schema']} v{meta['schema_version']}, "
        f"device {fp.get('slug')} ({fp.get('name')}), protocol {meta.get('protocol_id')}"
    )
    for pid, protocol in meta.get("other_protocols", {}).items():
        n = int((df["protocol_id"] == pid).sum()) if "protocol_id" in df else 0
        ui.console.print(f"also protocol {pid} ({n} rows): " + json.dumps(protocol, sort_keys=True))
    counts = df["status"].value_counts().to_dict() if "status" in df else {}
    ui.console.print(f"{len(df)} rows: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    shown = display_frame(df, meta.get("schema", ""))
    table = Table(title="rows", title_justify="left")
    for col in shown.columns:
        numeric = col.endswith((" ms", " MiB")) or col in ("n", "rep", "ops", "batch")
        table.add_column(
            col, no_wrap=numeric, justify="right" if numeric else "left", overflow="fold"
        )
    for row in shown.head(args.limit).itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    ui.console.print(table)
    flagged = int((df["warnings"] != "").sum()) if "warnings" in df else 0
    if flagged:
        ui.console.print(
            f"{flagged} row(s) carry measurement warnings (see the 'warnings' column, --csv)"
        )
    return 0
