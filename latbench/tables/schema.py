"""Table schemas: the documented columns of latency (and other) lookup tables.

A table is a CSV file (one row per measured OpSpec, units in column names) plus a JSON
side-car ``<table>.meta.json`` holding the schema name and version, the column documentation,
the device fingerprint and the measuring protocol. See README.md "Table format".
"""

from __future__ import annotations

from dataclasses import dataclass

OP_COLUMNS: dict[str, tuple[str, str]] = {
    "key": ("str", "OpSpec text key kind|params|shape|dtype|mode (the primary key)"),
    "kind": ("str", "op kind (latbench.ops registry name)"),
    "op_params": ("str", "the op's hyper-parameters as a JSON object"),
    "input_shape": ("str", "input shape, 'x'-separated (N x C x ...)"),
    "dtype": ("str", "float32 | float16 | bfloat16"),
    "mode": ("str", "infer | train"),
    "status": ("str", "ok | error | oom: error rows keep the error and carry no statistics"),
    "error": ("str", "the error message of a failed op (empty when ok)"),
    "source": ("str", "measured | estimated: an estimate is never called a measurement"),
    "protocol_id": ("str", "hash of the measuring protocol (timer, budgets, threads); "
                           "a re-run skips rows of the same protocol"),
    "flops": ("float", "forward FLOPs counted by torch.utils.flop_counter (matmul/conv)"),
    "n_params": ("float", "parameter count"),
    "bytes_read": ("float", "bytes of inputs and parameters"),
    "bytes_written": ("float", "bytes of outputs"),
    "measured_at": ("str", "UTC time the row was written (ISO 8601)"),
}

LATENCY_STAT_COLUMNS: dict[str, tuple[str, str]] = {
    "latency_median_ms": ("float", "median per-call latency, milliseconds"),
    "latency_mean_ms": ("float", "mean per-call latency, milliseconds"),
    "latency_std_ms": ("float", "sample standard deviation, milliseconds"),
    "latency_iqr_ms": ("float", "inter-quartile range, milliseconds"),
    "latency_p90_ms": ("float", "90th percentile, milliseconds"),
    "latency_p99_ms": ("float", "99th percentile, milliseconds"),
    "latency_min_ms": ("float", "fastest sample, milliseconds"),
    "latency_ci95_low_ms": ("float", "lower end of the median's 95% CI, milliseconds"),
    "latency_ci95_high_ms": ("float", "upper end of the median's 95% CI, milliseconds"),
    "n_samples": ("float", "samples kept"),
    "calls_per_sample": ("float", "calls timed back to back per sample"),
    "timer": ("str", "cpu-perf_counter_ns | cuda-event | cuda-event+graph"),
    "stop_reason": ("str", "converged | budget | max_samples"),
    "warnings": ("str", "measurement warnings (high spread, throttling), '; '-separated"),
}


@dataclass(frozen=True)
class TableSchema:
    """A named, versioned list of documented columns."""

    name: str
    version: int
    columns: dict[str, tuple[str, str]]

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def numeric(self) -> list[str]:
        return [c for c, (kind, _) in self.columns.items() if kind == "float"]

    def doc(self) -> dict[str, str]:
        return {c: f"{kind}: {text}" for c, (kind, text) in self.columns.items()}


LATENCY = TableSchema("latbench.latency", 1, {**OP_COLUMNS, **LATENCY_STAT_COLUMNS})

SCHEMAS: dict[str, TableSchema] = {LATENCY.name: LATENCY}


def register_schema(schema: TableSchema) -> TableSchema:
    """Make a schema known to ``read_table`` (memory tables register theirs)."""
    SCHEMAS[schema.name] = schema
    return schema
