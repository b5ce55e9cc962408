"""Lookup tables: documented schemas, crash-safe appends, validated reads."""

from latbench.tables.schema import LATENCY, SCHEMAS, TableSchema
from latbench.tables.store import (
    TableWriter,
    check_schema,
    merge_tables,
    meta_path,
    read_meta,
    read_table,
    refuse_table,
)

__all__ = [
    "LATENCY",
    "SCHEMAS",
    "TableSchema",
    "TableWriter",
    "check_schema",
    "merge_tables",
    "meta_path",
    "read_meta",
    "read_table",
    "refuse_table",
]
