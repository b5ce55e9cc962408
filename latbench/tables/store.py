"""Crash-safe lookup tables: CSV rows appended and fsync'ed one at a time, JSON side-car. A
killed run leaves at most a partial last line, dropped (with a warning) when it is reopened."""

from __future__ import annotations

import csv
import io
import json
import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from latbench.atomic import write_atomically
from latbench.errors import NOT_A_TABLE, InputFileError, TableError, with_filename
from latbench.jsonio import loads, read_text, validated
from latbench.tables.checks import Timer, check_header, parse_rows
from latbench.tables.schema import SCHEMAS, TableSchema


def meta_path(path: str | os.PathLike[str]) -> Path:
    """The JSON side-car of table ``path``: ``name.csv`` -> ``name.meta.json``."""
    p = Path(path)
    return p.with_name(p.name.removesuffix(".csv") + ".meta.json")


def refuse_table(path: str | os.PathLike[str], what: str) -> None:
    """``TableError`` when ``path`` is a table (its side-car beside it) or a table's side-car:
    an output (``what``: a predictor, predictions, a plot) never replaces measured rows."""
    p = Path(path)
    side_car = p.name.endswith(".meta.json")
    table = p.with_name(p.name.removesuffix(".meta.json") + ".csv") if side_car else p
    if p.is_file() and table.is_file() and meta_path(table).is_file():
        whose = "the side-car of a table" if p != table else "a table"
        raise TableError(f"{p}: is {whose}; not replaced by {what} (give another path)")


class TableMeta(dict):  # type: ignore[type-arg]
    """A table's side-car in ``attrs['meta']``: read-only (nested objects too), so that every
    frame derived from the table shares it (pandas deep-copies attrs after every operation)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> TableMeta:
        return self

    def __copy__(self) -> TableMeta:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return TableMeta.of, (self.thawed(),)

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            "a table's side-car (attrs['meta']) is read-only; change a plain "
            "copy made with attrs['meta'].thawed() instead"
        )

    def thawed(self) -> dict[str, Any]:
        """A plain, mutable deep copy (nested objects plain dicts too)."""
        plain: dict[str, Any] = json.loads(json.dumps(self))
        return plain

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> TableMeta:
        """``data`` with every nested JSON object made a ``TableMeta`` too."""
        return cls({k: cls.of(v) if isinstance(v, Mapping) else v for k, v in data.items()})


class Fingerprint(BaseModel):
    """The device a table was measured on; only its ``slug`` is read (other fields: any)."""

    model_config = ConfigDict(strict=True, extra="allow", defer_build=True)
    slug: str = ""


class Protocol(BaseModel):
    """A side-car's ``protocol`` (``latbench.profile.protocol_of``): the fields latbench writes,
    checked for sense when present (imported and memory tables lack them)."""

    model_config = ConfigDict(strict=True, extra="allow", defer_build=True)
    timer: Timer | None = None
    clock: Literal["thread_time_ns", "perf_counter_ns"] | None = None  # latbench.timing.cpu
    threads: int | None = Field(default=None, ge=1)
    warmup_ms: float | None = Field(default=None, ge=0)
    budget_ms: float | None = Field(default=None, gt=0)
    min_sample_ms: float | None = Field(default=None, ge=0)
    target_rel_ci: float | None = Field(default=None, gt=0)
    min_samples: int | None = Field(default=None, ge=1)
    max_samples: int | None = Field(default=None, ge=1)
    batch: int | None = Field(default=None, ge=1)
    rounds: int | None = Field(default=None, ge=1)


class SideCar(BaseModel):
    """A table's side-car ``<table>.meta.json`` (docs/formats.md): a known table schema at the
    version this latbench reads; other fields are kept as written."""

    model_config = ConfigDict(strict=True, extra="allow", defer_build=True)
    table_schema: str = Field(alias="schema")
    schema_version: int
    fingerprint: Fingerprint = Fingerprint()
    columns: dict[str, Any] = {}
    protocol: Protocol = Protocol()
    other_protocols: dict[str, Protocol] = {}  # protocol_id -> protocol of later runs' rows
    size: Literal["small", "paper", ""] | None = None  # latbench.spaces.SIZES; None, "": models

    @field_validator("table_schema")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in SCHEMAS:
            raise ValueError("one of " + ", ".join(sorted(SCHEMAS)))
        return name

    @field_validator("schema_version")
    @classmethod
    def _readable(cls, version: int, info: ValidationInfo) -> int:
        schema = SCHEMAS.get(info.data.get("table_schema", ""))
        if schema is not None and version != schema.version:
            raise ValueError(
                f"{schema.version} (this latbench reads {schema.name} v{schema.version})"
            )
        return version


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The side-car of ``path``, checked against ``SideCar``; else a ``TableError``."""
    mp = meta_path(path)
    try:
        meta: dict[str, Any] = loads(read_text(mp, "side-car"), str(mp))
    except FileNotFoundError:
        raise TableError(f"{path}: missing side-car {mp.name} (schema, device, protocol)") from None
    except InputFileError as exc:
        raise TableError(str(exc)) from None
    validated(SideCar, meta, str(mp), TableError)
    return meta


def _drop_partial_last_line(path: Path) -> None:
    """Truncate a last line that a killed writer left without its newline."""
    with open(path, "rb") as fh:  # read-only: a complete table on read-only media is fine
        fh.seek(max(path.stat().st_size - 1, 0))
        if fh.read(1) in (b"", b"\n"):
            return
    os.truncate(path, path.read_bytes().rfind(b"\n") + 1)
    warnings.warn(f"{path}: dropped a partial last row left by an interrupted run", stacklevel=3)


def _add_missing_columns(path: Path, schema: TableSchema) -> None:
    """Check the header; rewrite an older table with the ``schema.added`` columns (empty)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:  # a byte-order mark is no column
        reader = csv.reader(fh)
        header = next(reader, [])
        check_header(path, header, schema)
        if header == schema.names:
            return
        rows = list(reader)
    pad = [""] * (len(schema.names) - len(header))
    write_atomically(path, _csv_text([schema.names, *(row + pad for row in rows)]))


def _csv_text(rows: Iterable[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _not_a_directory(p: Path) -> None:
    if p.is_dir():
        raise TableError(
            f"{p}: is a directory; expected a table file (NAME.csv beside its "
            "NAME.meta.json side-car)"
        )


def check_schema(
    path: str | os.PathLike[str], meta: Mapping[str, Any], expected: TableSchema | None
) -> None:
    """One ``TableError`` naming the schema found and the one expected, when they differ."""
    if expected is not None and meta.get("schema") != expected.name:
        raise TableError(
            f"{path}: is a {meta.get('schema')} table (its side-car's schema); "
            f"this command reads and writes {expected.name} tables"
        )


def read_table(path: str | os.PathLike[str], schema: TableSchema | None = None) -> pd.DataFrame:
    """A table as a DataFrame (numeric columns as floats); ``attrs['meta']`` holds the side-car.

    Raises ``TableError`` naming the file, line and field for a missing, malformed or foreign
    table (``latbench.tables.checks``: row widths, enums, finite latencies > 0 on ok rows, keys
    that parse), a directory, or a table of another schema than ``schema`` when given. Keys are
    returned in canonical form (``OpSpec.from_key(key).key``). Reading never opens the table
    for writing.
    """
    p = Path(path)
    _not_a_directory(p)
    if not p.is_file():
        raise TableError(f"{p}: no such table file")
    if p.suffix.lower() == ".json":  # not a missing side-car of a table called *.json
        raise TableError(f"{p}: {NOT_A_TABLE}")
    meta = read_meta(p)
    check_schema(p, meta, schema)
    schema = SCHEMAS[meta["schema"]]
    try:
        text = read_text(p, "table")
    except InputFileError as exc:
        raise TableError(str(exc)) from None
    complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
    df = parse_rows(p, complete, schema)
    df.attrs["meta"] = TableMeta.of(meta)
    return df


class TableWriter:
    """Appends rows to a table, creating it (header + side-car) on first use.

    Opening an existing table checks its schema and device; rows are flushed and fsync'ed one
    at a time so that an interrupted run loses at most the row being written.
    """

    def __init__(self, path: str | os.PathLike[str], schema: TableSchema, meta: Mapping[str, Any]):
        self.path, self.schema = Path(path), schema
        _not_a_directory(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0:
            existing = read_meta(self.path)
            check_schema(self.path, existing, schema)
            old = existing.get("fingerprint", {}).get("slug")
            new = meta.get("fingerprint", {}).get("slug")
            if old and new and old != new:
                raise TableError(
                    f"{self.path}: table holds device {old!r}, this run measures "
                    f"{new!r}; write to that device's own folder instead"
                )
            _drop_partial_last_line(self.path)
            _record_protocol(self.path, existing, meta)
        if self.path.exists() and self.path.stat().st_size > 0:  # a whole header at least
            _add_missing_columns(self.path, schema)
        elif self.path.exists() and meta_path(self.path).exists():
            self._write_line(schema.names)  # the header was cut mid-write: write it again
        else:
            write_atomically(meta_path(self.path), _side_car(schema, meta))
            self._write_line(schema.names)

    def _write_line(self, values: list[Any]) -> None:
        try:
            with open(self.path, "a", encoding="utf-8", newline="") as fh:
                fh.write(_csv_text([values]))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:  # a full disk: write/flush/fsync name no file
            raise with_filename(exc, self.path) from None

    def append(self, row: Mapping[str, Any]) -> None:
        """Write one row (unknown fields are an error; absent ones are left empty)."""
        self._write_line(_values(self.path, self.schema, row))


def write_table(
    path: str | os.PathLike[str],
    schema: TableSchema,
    meta: Mapping[str, Any],
    rows: list[Mapping[str, Any]],
) -> Path:
    """Write a whole table (CSV + side-car, each atomically) made in one go (imports)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    csv_text = _csv_text([schema.names, *(_values(path, schema, row) for row in rows)])
    write_atomically(meta_path(path), _side_car(schema, meta))
    return write_atomically(path, csv_text)


def _record_protocol(path: Path, existing: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
    """Add a run's protocol, when new, to the side-car's ``other_protocols``."""
    pid, others = meta.get("protocol_id"), dict(existing.get("other_protocols", {}))
    if pid is None or pid == existing.get("protocol_id") or pid in others:
        return
    others[pid] = meta.get("protocol", {})
    write_atomically(meta_path(path), _json_text({**existing, "other_protocols": others}))


def _side_car(schema: TableSchema, meta: Mapping[str, Any]) -> str:
    full = {"schema": schema.name, "schema_version": schema.version, "columns": schema.doc()}
    return _json_text({**full, **meta})


def _json_text(side_car: Mapping[str, Any]) -> str:
    return json.dumps(side_car, indent=2, sort_keys=True) + "\n"


def _values(path: Path, schema: TableSchema, row: Mapping[str, Any]) -> list[Any]:
    """``row`` as the schema's columns (absent ones empty); unknown fields are a TableError."""
    unknown = set(row) - set(schema.columns)
    if unknown:
        raise TableError(
            f"{path}: row has fields not in {schema.name}: {', '.join(sorted(unknown))}"
        )
    return ["" if row.get(c) is None else row.get(c) for c in schema.names]


def merge_tables(paths: list[str | os.PathLike[str]]) -> pd.DataFrame:
    """Rows of several tables of one schema and device; the last row per key wins."""
    frames = [read_table(p) for p in paths]
    if not frames:
        raise TableError("merge_tables: no tables given")
    schemas = {f.attrs["meta"]["schema"] for f in frames}
    slugs = {f.attrs["meta"].get("fingerprint", {}).get("slug") for f in frames}
    if len(schemas) > 1 or len(slugs) > 1:
        raise TableError(
            f"merge_tables: tables mix schemas {sorted(schemas)} or devices "
            f"{sorted(map(str, slugs))}; merge one device and schema at a time"
        )
    merged = pd.concat(frames, ignore_index=True).drop_duplicates("key", keep="last")
    merged.attrs["meta"] = frames[-1].attrs["meta"]
    return merged.reset_index(drop=True)
