"""Import whole-network latencies measured elsewhere into ``latbench.networks`` tables.

A published file (architecture columns plus one latency column per device: HELP, HW-NAS-Bench,
BRP-NAS) becomes one table per column of rows marked ``imported`` (``source``, ``timer``,
``protocol_id``, side-car provenance), in ms per forward pass of the whole batch; the one
published number fills median, mean and min. Rows are read by the space's ``register_row_parser``
parser. Disconnected NAS-Bench-201 cells (341 of 15,625) are dropped and counted unless
``disconnected="keep"``: their latency depends on whether the runtime removed dead code.
"""

from __future__ import annotations

import csv
import getpass
import gzip
import hashlib
import io
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from latbench.architecture import Architecture, spaces_with_genotypes
from latbench.archs.nasbench201 import from_genotype, is_connected
from latbench.archs.ofa_mbv3 import (
    ROW_COLUMNS,
    OfaEncodingError,
    build_network,
    config_from_columns,
)
from latbench.errors import GenotypeError, LatbenchError, UnknownGenotypeOpError
from latbench.netprofile import arch_columns, default_networks_path
from latbench.plugin_loader import load_plugins
from latbench.statistics import LATENCY_RANGE_MS
from latbench.tablerun.ids import protocol_id
from latbench.tables.schema import NETWORKS
from latbench.tables.store import write_table

UNITS = {"ms": 1.0, "us": 1e-3, "s": 1e3}
"""Units of an imported latency column, with their factor to milliseconds."""
PERS = ("batch", "image")
"""What an imported latency is for: the whole batch or one image of it."""
DISCONNECTED = ("drop", "keep")
"""What import does with NAS-Bench-201 cells whose input cannot reach their output."""

INDEX_COLUMNS = frozenset({"", "index", "arch_index", "sample_index", "unnamed: 0"})
"""Columns that number rows and are neither architecture nor latency."""
MIN_LATENCY_MS, MAX_LATENCY_MS = LATENCY_RANGE_MS
"""The range of an imported latency per forward pass after unit conversion (outside: a wrong
--unit or --per, or a corrupt file)."""


class ImportRowError(LatbenchError, ValueError):
    """A bad value of ``kind`` in ``column`` of an imported row (the importer adds file, row)."""

    def __init__(self, kind: str, message: str, column: str = ""):
        self.kind, self.column = kind, column
        super().__init__(message)


@dataclass(frozen=True)
class ImportOptions:
    """What the user states about the file (unit and batch are required) and how to treat it."""

    unit: str
    batch: int | None
    per: str = "batch"
    batches: tuple[tuple[str, int], ...] = ()  # per-column batch sizes, over ``batch``
    space: str | None = None
    size: str = "paper"
    n_classes: int = 10
    prune: bool = False
    columns: tuple[str, ...] | None = None
    origin: str = ""
    license: str = ""
    license_file: str = ""
    measured_by: str = ""
    disconnected: str = "drop"
    arch_column: str = ""  # the file's name for NAS-Bench-201's ``arch_str`` column
    skip_bad: bool = False
    force: bool = False

    def check(self) -> None:
        for name, valid in (("unit", UNITS), ("per", PERS), ("disconnected", DISCONNECTED)):
            if getattr(self, name) not in valid:
                raise LatbenchError(
                    f"{name} {getattr(self, name)!r} is not one of {', '.join(valid)}"
                )
        for name, b in (("batch", self.batch), *self.batches):
            if b is not None and (isinstance(b, bool) or not isinstance(b, int) or b < 1):
                raise LatbenchError(f"batch {b!r} ({name}) must be a positive integer")
        if self.prune and self.disconnected == "keep":
            raise LatbenchError(
                "prune with disconnected=keep: a pruned disconnected cell is no "
                "network of the benchmark; use disconnected=drop"
            )

    def batch_of(self, column: str) -> int:
        """The batch size ``column`` was measured at, as the user stated it."""
        batch = dict(self.batches).get(column, self.batch)
        if batch is None:
            raise LatbenchError(
                f"no batch size for column {column!r}; pass --batch N (all "
                f"columns) or --batch {column}=N"
            )
        return batch

    @property
    def factor(self) -> float:
        """Published value -> ms per forward pass of the whole batch."""
        return UNITS[self.unit] * ((self.batch or 1) if self.per == "image" else 1)


@dataclass(frozen=True)
class RowParser:
    """How a space reads an architecture from a row: the columns it uses, and the parser."""

    space: str
    columns: tuple[str, ...]
    parse: Callable[[Mapping[str, str], ImportOptions], Architecture]


_ROW_PARSERS: dict[str, RowParser] = {}


def register_row_parser(
    space: str, columns: tuple[str, ...]
) -> Callable[[Callable[..., Architecture]], Callable[..., Architecture]]:
    """Decorator registering ``parse(row, options) -> Architecture`` for files whose header
    has all of ``columns``; the parser raises ``ImportRowError`` naming the bad column."""

    def decorate(fn: Callable[..., Architecture]) -> Callable[..., Architecture]:
        _ROW_PARSERS[space] = RowParser(space, tuple(columns), fn)
        return fn

    return decorate


def _row_error(row: Mapping[str, str], column: str, kind: str, exc: Exception) -> ImportRowError:
    """``kind`` of bad value in ``column``, or ``missing value`` where the column is empty."""
    empty = not (row.get(column) or "").strip()
    return ImportRowError("missing value" if empty else kind, str(exc), column)


@register_row_parser("nasbench201", ("arch_str",))
def parse_nasbench201(row: Mapping[str, str], options: ImportOptions) -> Architecture:
    """A NAS-Bench-201 row's ``arch_str`` genotype at the options' size, batch and classes (a
    disconnected cell is flagged, not pruned)."""
    text = row.get("arch_str") or ""
    assert options.batch is not None  # the importer resolves each column's batch
    try:
        return from_genotype(
            text,
            size=options.size,
            batch=options.batch,
            n_classes=options.n_classes,
            prune=options.prune and is_connected(text),
        )
    except GenotypeError as exc:
        kind = "unknown op" if isinstance(exc, UnknownGenotypeOpError) else "malformed genotype"
        raise _row_error(row, "arch_str", kind, exc) from None


@register_row_parser("ofa-mbv3", ROW_COLUMNS)
def parse_ofa_mbv3(row: Mapping[str, str], options: ImportOptions) -> Architecture:
    """An OFA MobileNetV3 row in HELP's format (``latbench.archs.ofa_mbv3``) at the import's
    batch and width ``DEFAULT_WIDTH`` (1.2: the width HELP's latencies support, docs/ofa.md)."""
    assert options.batch is not None  # the importer resolves each column's batch
    try:
        ks, e, d, r = (row.get(c) or "" for c in ROW_COLUMNS)
        config = config_from_columns(ks, e, d, r)
    except OfaEncodingError as exc:
        raise _row_error(row, exc.field, "bad encoding", exc) from None
    return build_network(config, options.batch)


def row_parser(header: list[str], space: str | None = None) -> RowParser:
    """The parser of ``space``, or the one whose columns the header has (plugins' too)."""
    load_plugins()
    if space is not None:
        if space not in _ROW_PARSERS:
            raise LatbenchError(
                f"no importer for space {space!r}; valid: {', '.join(sorted(_ROW_PARSERS))}"
            )
        found = _ROW_PARSERS[space]
        missing = [c for c in found.columns if c not in header]
        if missing:
            raise LatbenchError(
                f"space {space!r} reads architectures from column(s) "
                f"{', '.join(missing)}, which the file lacks"
            )
        return found
    for parser in _ROW_PARSERS.values():
        if all(c in header for c in parser.columns):
            return parser
    expected = "; ".join(f"{p.space}: {', '.join(p.columns)}" for p in _ROW_PARSERS.values())
    raise LatbenchError(f"no architecture column in header {header}; expected one of ({expected})")


def latency_columns(
    header: list[str], parser: RowParser, chosen: tuple[str, ...] | None = None
) -> list[str]:
    """The latency columns: ``chosen``, or every column that neither numbers rows nor
    describes the architecture."""
    available = [
        c for c in header if c not in parser.columns and c.strip().lower() not in INDEX_COLUMNS
    ]
    if not chosen:
        if not available:
            raise LatbenchError(f"header {header} has no latency column")
        return available
    unknown = [c for c in chosen if c not in available]
    if unknown:
        raise LatbenchError(
            f"column(s) {', '.join(map(repr, unknown))} not among the file's "
            f"latency columns: {', '.join(available)}"
        )
    return list(dict.fromkeys(chosen))


def read_rows(
    path: Path, rename: Mapping[str, str] | None = None
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs of a .csv or .csv.gz file, columns renamed."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:  # type: ignore[operator]
            text = fh.read()  # utf-8-sig: a byte-order mark (Excel's CSV) is not a column name
    except FileNotFoundError:
        raise LatbenchError(f"{path}: no such file") from None
    except EOFError:
        raise LatbenchError(
            f"{path}: the compressed file ends early (truncated download or copy); fetch it again"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LatbenchError(f"{path}: cannot read as UTF-8 CSV ({exc})") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise LatbenchError(f"{path}: empty file; expected a CSV header")
    header = [h.strip() for h in header]
    rename = rename or {}
    missing = [c for c in rename if c not in header]
    if missing:
        raise LatbenchError(f"{path}: no column {missing[0]!r}; header: {', '.join(header)}")
    header = [rename.get(h, h) for h in header]
    pad = [""] * len(header)
    return header, [(reader.line_num, dict(zip(header, v + pad))) for v in reader if v]


def latency_ms(text: str, factor: float) -> tuple[str, float | None]:
    """('', ms) for a positive finite number whose ``value * factor`` lies in the physical
    range, else (error kind, None)."""
    text = (text or "").strip()
    if not text:
        return "missing value", None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        return "non-numeric value", None
    if value <= 0:
        return "negative or zero latency", None
    ms = value * factor
    if not math.isfinite(ms) or not MIN_LATENCY_MS <= ms <= MAX_LATENCY_MS:
        return "outside the physical range after unit conversion", None
    return "", ms


@dataclass
class ImportReport:
    """What an import wrote and what it left out."""

    tables: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    disconnected: int = 0
    space: str = ""

    def skip(self, kind: str, message: str) -> None:
        self.skipped[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(message)


def slug_of(column: str) -> str:
    """A device folder name for a latency column (``1080ti_1`` stays as it is)."""
    slug = re.sub(r"[^a-z0-9_.-]+", "-", column.strip().lower()).strip("-.")
    if not slug:
        raise LatbenchError(f"column {column!r} gives no usable device name")
    return slug


def check_columns(path: Path, header: list[str], columns: list[str]) -> None:
    """``LatbenchError`` for a header naming a column twice, or two latency columns of one
    device folder (``slug_of``): one table would hold the other's numbers."""
    twice = [c for c, n in Counter(header).items() if n > 1]
    if twice:
        raise LatbenchError(
            f"{path}: column {twice[0]!r} appears {header.count(twice[0])} "
            "times in the header; rename the copies"
        )
    by_slug: dict[str, list[str]] = {}
    for c in columns:
        by_slug.setdefault(slug_of(c), []).append(c)
    clash = next((cs for cs in by_slug.values() if len(cs) > 1), None)
    if clash:
        raise LatbenchError(
            f"{path}: columns {', '.join(map(repr, clash))} would both be "
            f"device folder {slug_of(clash[0])!r}; import them separately "
            "(--columns) into different --out folders, or rename one"
        )


def imported_provenance(
    path: Path, origin: str, license: str, license_file: str, measured_by: str
) -> dict[str, Any]:
    """The side-car's record of an imported file: file, sha256, origin, license, who measured
    and imported it and when."""
    return {
        "source": "imported",
        "file": path.name,
        "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "origin": origin or str(path),
        "license": license or "not stated (pass --license or --license-file)",
        "license_file": license_file,
        "measured_by": measured_by or "not stated",
        "imported_by": getpass.getuser(),
        "imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def imported_row(described: Mapping[str, Any], ms: float, pid: str, what: str) -> dict[str, Any]:
    """A networks row of one published latency ``ms`` (fills median, mean and min)."""
    return {
        **described,
        "repeat": 1,
        "status": "ok",
        "error": "",
        "source": "imported",
        "protocol_id": pid,
        "measured_at": "",
        **dict.fromkeys(("latency_median_ms", "latency_mean_ms", "latency_min_ms"), repr(ms)),
        "timer": "imported",
        "stop_reason": "imported",
        "warnings": f"imported ({what}); not measured by latbench",
    }


def imported_meta(
    slug: str, name: str, space: str, size: str, prov: Mapping[str, Any]
) -> dict[str, Any]:
    """The side-car meta of an imported networks table; its protocol id is
    ``imported-<protocol_id>`` of the provenance without who imported it and when."""
    described = {k: v for k, v in prov.items() if k not in ("imported_at", "imported_by")}
    return {
        "fingerprint": {"slug": slug, "name": name, "kind": "imported"},
        "protocol": {"kind": "imported"},
        "protocol_id": "imported-" + protocol_id(described),
        "source": "imported",
        "space": space,
        "size": size,
        "provenance": dict(prov),
    }


Parsed = list[tuple[int, dict[str, str], dict[str, Any]]]  # (line, row, descriptive columns)


def _parse_archs(
    path: Path,
    rows: list[tuple[int, dict[str, str]]],
    parser: RowParser,
    options: ImportOptions,
    report: ImportReport,
) -> Parsed:
    """The rows whose architecture reads, each architecture's first row once; the rest raise (or
    are skipped with ``skip_bad``); disconnected cells are dropped unless kept."""
    out, compact = [], parser.space in spaces_with_genotypes()
    first: dict[str, int] = {}  # arch_id -> line
    for line, row in rows:
        try:
            arch = parser.parse(row, options)
            described = arch_columns(arch, compact=compact)
            seen = first.setdefault(described["arch_id"], line)
            if seen != line:
                raise ImportRowError(
                    "repeated", f"the architecture of row {seen} again", parser.columns[0]
                )
        except ImportRowError as exc:
            column = exc.column
            if column == "arch_str" and options.arch_column:
                column = options.arch_column
            msg = f"{path}: row {line}, column {column!r}: {exc.kind}: {exc}"
            if not options.skip_bad:
                raise ImportRowError(exc.kind, msg) from None
            report.skip(exc.kind, msg)
            continue
        if arch.meta.get("connected", True) is False:
            report.disconnected += 1
            if options.disconnected == "drop":
                continue
        out.append((line, row, described))
    return out


def import_networks(
    path: str | os.PathLike[str], out_dir: str | os.PathLike[str], options: ImportOptions
) -> ImportReport:
    """Write one ``latbench.networks`` table per latency column of the file at ``path`` under
    ``out_dir/<column>/<space>-<size>.networks.csv``; nothing unless every table can be, an
    existing one only with ``options.force``. Raises ``ImportRowError`` (file, row, column, what
    is wrong) on the first bad latency or architecture unless ``options.skip_bad`` (counted).
    """
    options.check()
    path, report = Path(path), ImportReport()
    rename = {options.arch_column: "arch_str"} if options.arch_column else {}
    header, rows_in = read_rows(path, rename)
    parser = row_parser(header, options.space)
    columns = latency_columns(header, parser, options.columns)
    report.space = parser.space
    check_columns(path, header, columns)
    targets = {
        c: default_networks_path(slug_of(c), parser.space, options.size, out_dir) for c in columns
    }
    existing = [str(t) for t in targets.values() if t.exists()]
    if existing and not options.force:
        raise LatbenchError(f"{existing[0]} exists; pass --force to replace it")
    unknown = [c for c, _ in options.batches if c not in columns]
    if unknown:
        raise LatbenchError(
            f"--batch names column(s) {', '.join(map(repr, unknown))} not "
            f"imported; imported: {', '.join(columns)}"
        )
    batch_of = {c: options.batch_of(c) for c in columns}  # refuse a missing one before work
    file_prov = imported_provenance(  # once: it reads and hashes the whole file
        path, options.origin, options.license, options.license_file, options.measured_by
    )
    parsed: dict[int, Parsed] = {}  # by batch: the networks' input shapes carry it
    tables = {}
    for column in columns:
        col_options = replace(options, batch=batch_of[column], batches=())
        if batch_of[column] not in parsed:
            parsed[batch_of[column]] = _parse_archs(
                path, rows_in, parser, col_options, report if not parsed else ImportReport()
            )
        tables[column] = _column_table(
            path, file_prov, column, parsed[batch_of[column]], col_options, parser.space, report
        )
    for column, (meta, rows) in tables.items():  # every value checked before anything is written
        write_table(targets[column], NETWORKS, meta, rows)
        report.rows[column], report.tables[column] = len(rows), targets[column]
    return report


def _column_table(
    path: Path,
    file_prov: Mapping[str, Any],
    column: str,
    parsed: Parsed,
    options: ImportOptions,
    space: str,
    report: ImportReport,
) -> tuple[dict[str, Any], list[Mapping[str, Any]]]:
    """The side-car meta (``file_prov`` and how the column was read) and rows of one column."""
    prov = {
        **file_prov,
        "column": column,
        "unit": options.unit,
        "per": options.per,
        "batch": options.batch,
        "conversion": f"latency_*_ms = published value x {options.factor:g} (ms per "
        "forward pass of the whole batch)",
        "statistic": "one published value per network; it fills latency_median_ms, "
        "latency_mean_ms and latency_min_ms alike",
        "space": space,
        "size": options.size,
        "n_classes": options.n_classes,
        "prune": options.prune,
        "disconnected": options.disconnected,
    }
    meta = imported_meta(slug_of(column), f"{column} (imported)", space, options.size, prov)
    rows: list[Mapping[str, Any]] = []
    for line, row, described in parsed:
        kind, value = latency_ms(row.get(column, ""), options.factor)
        if value is None:
            msg = (
                f"{path}: row {line}, column {column!r}: {kind} "
                f"{row.get(column, '')!r}; expected a positive number of {options.unit} "
                f"giving {MIN_LATENCY_MS:g}-{MAX_LATENCY_MS:g} ms per forward pass"
            )
            if not options.skip_bad:
                raise ImportRowError(kind, msg)
            report.skip(kind, msg)
            continue
        rows.append(imported_row(described, value, meta["protocol_id"], column))
    if not rows:
        raise LatbenchError(f"{path}: column {column!r} has no importable row")
    return meta, rows


def provenance_line(meta: Mapping[str, Any]) -> str:
    """Where a networks table's latencies come from, for reports: ``measured here on SLUG`` or
    ``imported from ORIGIN (column, unit per batch of N, ...)`` (timm: ``(file: device, ...)``)."""
    prov = meta.get("provenance") or {}
    if meta.get("source") != "imported" and prov.get("source") != "imported":
        return f"measured here on {meta.get('fingerprint', {}).get('slug', '?')}"
    if meta.get("space") == "timm":  # latbench.importing_timm: the file name says the rest
        return (
            f"imported from {prov.get('origin', '?')} ({prov.get('file', '?')}: "
            f"{prov.get('device', '?')}, {prov.get('precision', '?')}, "
            f"{prov.get('layout', '?')}, compiled {prov.get('compiled', '?')}, PyTorch "
            f"{prov.get('torch', '?')}, ms per batch of each row); not measured by latbench"
        )
    return (
        f"imported from {prov.get('origin', '?')} (column {prov.get('column', '?')}, "
        f"{prov.get('unit', '?')} per {prov.get('per', '?')} of {prov.get('batch', '?')}, "
        f"measured by {prov.get('measured_by', 'not stated')}); not measured by latbench"
    )
