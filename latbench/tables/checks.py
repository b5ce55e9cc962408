"""A table's rows, checked as they are read, whole columns at a time: per column (``ENUMS``,
numbers, ``POSITIVE_ON_OK``), between a row's statistics (``check_consistent``), op keys and
architectures by their own readers. The first bad value is one ``TableError`` naming the file,
line and field."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd

from latbench.architecture import Architecture
from latbench.errors import LatbenchError, TableError
from latbench.jsonio import loads
from latbench.opspec import OpSpec
from latbench.tables.schema import TableSchema

Timer = Literal["cpu-thread_time_ns", "cpu-perf_counter_ns", "cuda-event", "cuda-event+graph"]
"""Every timer latbench measures with (``CpuSampler.name`` of ``CLOCKS``, ``CudaTimer``)."""
TIMERS: tuple[str, ...] = get_args(Timer)

STATUSES = ("ok", "error", "oom", "crashed", "timeout")
ENUMS: dict[str, tuple[str, ...]] = {
    "status": STATUSES,
    "mode": ("infer", "train", ""),  # empty: the key (or arch_json) says
    "source": ("measured", "estimated", "imported"),  # imported: latbench.importing
    "dtype": ("float32", "float16", "bfloat16", ""),
    "subject": ("op", "arch"),
    "size": ("small", "paper", ""),
    "optimizer": ("sgd", "adam", "adamw", ""),
    "timer": (*TIMERS, "imported", ""),  # imported: latbench.importing; empty: a failed row
}
MAX_LATENCY_MS = 3.6e6
"""An hour per call: larger values are corrupt, not slow (they would also swamp any sum)."""
MAX_COUNT = 1e18
"""Counts (FLOPs, bytes, parameters) above this are corrupt."""
MAX_MIB = 1e9
MAX_SAMPLES = 1e9
"""``n_samples`` above this (17 min of 1 µs samples; runs stop at 5000 by default): corrupt."""

POSITIVE_ON_OK = (
    "latency_median_ms",
    "latency_mean_ms",
    "latency_min_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "latency_ci95_low_ms",
    "latency_ci95_high_ms",
)
"""Latency statistics that must be finite and > 0 on an ``ok`` row (when present)."""
POSITIVE = "a latency > 0 ms on an ok row (0 is floored at the timer's resolution when measured)"
REQUIRED_ON_OK = "latency_median_ms"
SHAPE = r"([1-9][0-9]{0,18}(x[1-9][0-9]{0,18})*)?"
ORDERED_ON_OK = (
    ("latency_min_ms", "latency_median_ms"),
    ("latency_median_ms", "latency_p90_ms"),
    ("latency_p90_ms", "latency_p99_ms"),
    ("latency_min_ms", "latency_mean_ms"),
)
"""(low, high): statistics of one row's samples, low <= high (when both are present)."""
CORRECTED = {
    "latency_min_corrected_ms": "latency_min_ms",
    "latency_median_corrected_ms": "latency_median_ms",
}
"""Drift-corrected column -> the statistic it is, divided by ``drift``."""
WHOLE_ON_OK = ("n_samples", "calls_per_sample")
"""Counts that are whole numbers >= 1 on an ``ok`` row (when present)."""


MAX_FIELD_CHARS = 2**24
"""Longest CSV field read (csv's default: 131 072): a traced Swin's ``arch_json`` is ~300 KB."""
csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))


def parse_rows(path: Path, text: str, schema: TableSchema) -> pd.DataFrame:
    """CSV text -> checked DataFrame (``check_header``, ``to_numbers``, ``check_rows``; the
    ``schema.added`` columns an older table lacks read as empty); a row of another width, or an
    unterminated quote, is refused."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    try:
        header = next(reader, [])
        check_header(path, header, schema)
        for row in reader:
            if len(row) != len(header):
                raise TableError(
                    f"{path}: line {reader.line_num}: {len(row)} fields; expected "
                    f"{len(header)} ({schema.name} columns)"
                )
            rows.append(row + [""] * (len(schema.names) - len(header)))
    except csv.Error as exc:
        raise TableError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None
    df = pd.DataFrame(rows, columns=schema.names, dtype=str)
    to_numbers(path, df, schema)
    check_rows(path, df, schema)
    return df


def check_header(path: Path, header: list[str], schema: TableSchema) -> None:
    """The header must be the schema's (or an older version's without the trailing
    ``schema.added`` columns); else one ``TableError`` naming the missing and unexpected."""
    if header != schema.names and header != schema.names[: len(schema.names) - len(schema.added)]:
        missing = [c for c in schema.names if c not in header]
        extra = [c for c in header if c not in schema.names]
        raise TableError(
            f"{path}: header does not match schema {schema.name} v{schema.version} "
            f"(missing: {missing or 'none'}, unexpected: {extra or 'none'})"
        )


def _fail(path: Path, df: pd.DataFrame, bad: pd.Series, col: str, expected: str) -> None:
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        value = df[col].iloc[i]
        shown = repr(value if isinstance(value, str) else float(value))
        raise TableError(f"{path}: line {i + 2}, field {col!r}: {shown}; expected {expected}")


def to_numbers(path: Path, df: pd.DataFrame, schema: TableSchema) -> None:
    """Numeric columns to float in place: finite, >= 0 and below a sane bound, or empty (NaN).
    Plain Python per cell: several times faster than pandas on these small tables."""
    bounds = {"_ms": MAX_LATENCY_MS, "_mib": MAX_MIB, "n_samples": MAX_SAMPLES}
    for col in schema.numeric():
        bound = next((b for end, b in bounds.items() if col.endswith(end)), MAX_COUNT)
        values = []
        for i, text in enumerate(df[col].tolist()):
            try:
                value = float(text) if text != "" else math.nan
            except ValueError:
                value = None
            if value is None or (text != "" and not 0 <= value <= bound):
                expected = "a number" if value is None else f"a finite number in [0, {bound:g}]"
                raise TableError(
                    f"{path}: line {i + 2}, field {col!r}: {text[:40]!r}; expected {expected}"
                )
            values.append(value)
        df[col] = np.array(values, dtype=np.float64)


def check_rows(path: Path, df: pd.DataFrame, schema: TableSchema) -> None:
    """Enums, latencies on ok rows, input shapes, JSON objects, op keys (``check_keys``) and
    architectures (``check_architectures``)."""
    for col, valid in ENUMS.items():
        if col in df.columns:
            _fail(path, df, ~df[col].isin(valid), col, "one of " + ", ".join(valid))
    if "status" in df.columns:
        ok = df["status"] == "ok"
        for col in (c for c in POSITIVE_ON_OK if c in df.columns):
            missing = df[col].isna() if col == REQUIRED_ON_OK else False
            _fail(path, df, ok & (missing | (df[col] <= 0)), col, POSITIVE)
        check_consistent(path, df, ok)
    if "input_shape" in df.columns:
        bad = ~df["input_shape"].astype(str).str.fullmatch(SHAPE)
        _fail(path, df, bad, "input_shape", "sizes like 1x16x32x32 (or empty)")
    if "key" in df.columns:
        check_keys(path, df)
    if "arch_json" in df.columns:
        check_architectures(path, df)
    if "config_json" in df.columns:
        _check_json_objects(path, df, "config_json")


def check_consistent(path: Path, df: pd.DataFrame, ok: pd.Series) -> None:
    """An ok row's statistics agree: ``ORDERED_ON_OK``, ``drift`` > 0 and the ``CORRECTED``
    columns equal to their statistic / drift (to 1e-6), ``WHOLE_ON_OK``."""
    tolerance = 1 + 1e-9  # each value was written with repr (exact); a little slack anyway
    for low, high in ORDERED_ON_OK:
        if low in df.columns and high in df.columns:
            _fail(path, df, ok & (df[low] > df[high] * tolerance), high, f"a latency >= {low}")
    if "drift" in df.columns:
        _fail(path, df, df["drift"] <= 0, "drift", "a drift > 0 (reference_ms / nominal)")
        for col, raw in CORRECTED.items():
            if col in df.columns:
                off = (df[col] - df[raw] / df["drift"]).abs() > 1e-6 * df[col]
                _fail(path, df, ok & off, col, f"{raw} / drift")
    for col in (c for c in WHOLE_ON_OK if c in df.columns):
        bad = df[col].notna() & ((df[col] < 1) | (df[col] % 1 != 0))
        _fail(path, df, ok & bad, col, "a whole number >= 1 on an ok row")


def _check_json_objects(path: Path, df: pd.DataFrame, col: str) -> None:
    for i, text in enumerate(df[col]):
        if text:
            try:
                ok = isinstance(loads(text, f"{path}: line {i + 2}, field {col!r}"), dict)
            except LatbenchError as exc:
                raise TableError(str(exc)) from None
            if not ok:
                raise TableError(f"{path}: line {i + 2}, field {col!r}: expected a JSON object")


def check_keys(path: Path, df: pd.DataFrame) -> None:
    """The ``key`` column: every op key parses (``OpSpec.from_key``), agrees with the row's
    kind, dtype, mode and shape (when given) and is made canonical; an arch row of a memory
    table is keyed ``arch:<arch_id>``. ``op_params`` is rewritten from the key (one truth)."""
    subjects = df["subject"].tolist() if "subject" in df.columns else ["op"] * len(df)
    canonical, params = [], []
    for i, (row, subject) in enumerate(zip(df.to_dict("records"), subjects)):
        if subject == "arch":
            if row["key"] != f"arch:{row.get('arch_id', '')}":
                raise TableError(
                    f"{path}: line {i + 2}, field 'key': {row['key'][:40]!r}; "
                    "expected arch:<arch_id> on an arch row"
                )
            canonical.append(row["key"])
            params.append("")  # an architecture has no op parameters
            continue
        try:
            spec = OpSpec.from_key(str(row["key"]))
        except LatbenchError as exc:
            raise TableError(f"{path}: line {i + 2}, field 'key': {exc}") from None
        shape = "x".join(map(str, spec.input_shape))
        expect = dict(kind=spec.kind, dtype=spec.dtype, mode=spec.mode, input_shape=shape)
        for col, want in expect.items():
            if row.get(col, "") not in ("", want):
                raise TableError(
                    f"{path}: line {i + 2}, field {col!r}: {row[col]!r} "
                    f"contradicts the key, which says {want!r}"
                )
        canonical.append(spec.key)
        params.append(spec.params_json)
    df["key"] = canonical
    if "op_params" in df.columns:
        df["op_params"] = params


def check_architectures(path: Path, df: pd.DataFrame) -> None:
    """The ``arch_json`` of every arch row must rebuild an Architecture (``from_json``)."""
    subjects = df["subject"].tolist() if "subject" in df.columns else ["arch"] * len(df)
    for i, (text, subject) in enumerate(zip(df["arch_json"].tolist(), subjects)):
        if subject == "arch":
            try:
                Architecture.from_json(text, f"{path}: line {i + 2}, field 'arch_json'")
            except LatbenchError as exc:
                raise TableError(str(exc)) from None
