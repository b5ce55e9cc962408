"""``latbench import-nets --format timm``: pytorch-image-models' published inference benchmarks.

timm's ``results/benchmark-infer-<precision>-<layout>-pt<torch>-<cuda|cpu>-<device>[-dynamo].csv``
has one row per (model, image size): ``infer_batch_size`` (lowered after out-of-memory errors, so
it varies), ``infer_step_time = 1000 · elapsed / iters`` (ms per batch) and
``infer_samples_per_sec = batch · iters / elapsed`` (timm's ``benchmark.py``). Each file becomes
``OUT/<slug>/timm-published.networks.csv``, latency = the step time; each row's ``arch_json``
holds the ``PUBLISHED`` columns and the ``latbench.model_features`` ``FEATURES`` (per image).
Models the installed timm does not know or cannot run on the meta device are skipped and counted.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from latbench.errors import LatbenchError
from latbench.importing import (
    ImportRowError,
    imported_meta,
    imported_provenance,
    imported_row,
    read_rows,
    slug_of,
)
from latbench.model_features import FEATURES, FeatureCache, features_of, timm_features
from latbench.model_loader import import_library
from latbench.tablerun.paths import default_table_path
from latbench.tables import read_meta
from latbench.tables.schema import NETWORKS
from latbench.tables.store import write_table

SPACE = "timm"
TABLE = "published"
COLUMNS = (
    "model",
    "infer_img_size",
    "infer_batch_size",
    "infer_step_time",
    "infer_samples_per_sec",
)
PUBLISHED = ("param_count", "infer_gmacs", "infer_macts")
"""Optional columns copied into each row's meta (millions, GMACs and millions per image)."""
PARAMS_TOLERANCE = 0.05
"""Largest relative difference between a model's published ``param_count`` and the installed
timm's before the row is skipped as measuring another network (ecaresnext50t_32x4d: 15.41 M
published, 25.05 M in timm 1.0.31)."""
CONSISTENCY_TOLERANCE = 0.05
"""Largest |step_time · samples_per_sec / (1000 · batch) − 1| accepted (shipped files: 0.02)."""
FILE_NAME = re.compile(
    r"benchmark-infer-(?P<precision>amp|fp32|fp16|bf16)-"
    r"(?P<layout>nchw|nhwc)-pt(?P<torch>\d+)-(?P<backend>cu\d+|cpu|"
    r"[a-z]+\d*)-(?P<device>.+?)(?P<dynamo>-dynamo)?$"
)
LAYOUTS = {"nchw": "NCHW", "nhwc": "NHWC (channels-last)"}
DTYPES = {"amp": "float16", "fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}


@dataclass(frozen=True)
class TimmRow:
    """One published measurement: ``step_ms`` per forward pass of ``batch`` images."""

    line: int
    model: str
    img_size: int
    batch: int
    step_ms: float
    samples_per_sec: float
    published: Mapping[str, float]

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, 3, self.img_size, self.img_size)


def file_provenance(path: Path) -> dict[str, Any]:
    """What timm's file name says (precision, layout, PyTorch, backend, device, compiled), or
    ``"not stated"`` for each where the name does not follow the pattern."""
    stem = path.name.removesuffix(".gz").removesuffix(".csv")
    m = FILE_NAME.fullmatch(stem)
    if m is None:
        keys = ("precision", "layout", "torch", "backend", "device", "compiled")
        return dict.fromkeys(keys, "not stated")
    version = m["torch"]
    return {
        "precision": "AMP (float16 autocast)" if m["precision"] == "amp" else m["precision"],
        "dtype": DTYPES[m["precision"]],
        "layout": LAYOUTS[m["layout"]],
        "torch": ".".join(version) if len(version) == 3 else version,
        "backend": m["backend"],
        "device": m["device"],
        "compiled": "torch.compile (inductor)" if m["dynamo"] else "no (eager)",
    }


def _number(path: Path, line: int, row: Mapping[str, str], column: str, kind: type) -> Any:
    text = (row.get(column) or "").strip()
    what = "a positive integer" if kind is int else "a positive number"
    try:
        value = kind(text)
        error = "non-positive value"
    except ValueError:
        value, error = math.nan, "non-numeric value"
    if not (math.isfinite(value) and value > 0):
        raise ImportRowError(
            error, f"{path}: line {line}, field {column!r}: {text!r} is not {what}"
        )
    return value


def parse_row(path: Path, line: int, row: Mapping[str, str]) -> TimmRow:
    """A checked ``TimmRow``; ``ImportRowError`` (one line: file, line, field) otherwise."""
    model = (row.get("model") or "").strip()
    if not model:
        raise ImportRowError("missing value", f"{path}: line {line}, field 'model': empty")
    size = _number(path, line, row, "infer_img_size", int)
    batch = _number(path, line, row, "infer_batch_size", int)
    step = _number(path, line, row, "infer_step_time", float)
    rate = _number(path, line, row, "infer_samples_per_sec", float)
    ratio = step * rate / (1000.0 * batch)
    if abs(ratio - 1.0) > CONSISTENCY_TOLERANCE:
        raise ImportRowError(
            "inconsistent",
            f"{path}: line {line}, field 'infer_step_time': {step:g} ms per batch of {batch} "
            f"disagrees with infer_samples_per_sec {rate:g} (step x rate / (1000 x batch) = "
            f"{ratio:.3f}, expected 1 +- {CONSISTENCY_TOLERANCE:g})",
        )
    published = {}
    for column in (c for c in PUBLISHED if (row.get(c) or "").strip()):  # optional columns
        text = row[column].strip()
        try:
            published[column] = value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 0):  # NaN makes arch_json unreadable JSON
            raise ImportRowError(
                "non-numeric value",
                f"{path}: line {line}, field {column!r}: {text!r} is not a number >= 0 (or empty)",
            )
    return TimmRow(line, model, size, batch, step, rate, published)


def read_timm(path: str | os.PathLike[str]) -> list[TimmRow]:
    """Every row of a timm ``benchmark-infer-*.csv`` (.csv or .csv.gz), checked; raises
    ``LatbenchError`` for a missing column and ``ImportRowError`` for a bad row."""
    path = Path(path)
    header, rows = read_rows(path)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise LatbenchError(
            f"{path}: no column {missing[0]!r}; a timm benchmark-infer CSV has "
            f"{', '.join(COLUMNS)} (header: {', '.join(header)})"
        )
    out: list[TimmRow] = []
    seen: dict[tuple[str, int], int] = {}
    for line, row in rows:
        parsed = parse_row(path, line, row)
        key = (parsed.model, parsed.img_size)
        if key in seen:
            raise ImportRowError(
                "duplicate",
                f"{path}: line {line}, field 'model': {parsed.model} at {parsed.img_size} px "
                f"already on line {seen[key]}",
            )
        seen[key] = line
        out.append(parsed)
    if not out:
        raise LatbenchError(f"{path}: no rows under the header")
    return out


@dataclass
class TimmImportReport:
    """What a timm import wrote, and what it skipped (unknown names, models that fail)."""

    table: Path | None = None
    rows: int = 0
    read: int = 0
    unknown: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    changed: dict[str, str] = field(default_factory=dict)  # changed_model's reason, by model
    batches: Counter = field(default_factory=Counter)
    library: str = ""


def changed_model(row: TimmRow, features: Mapping[str, float], library: str) -> str:
    """Why ``row`` measured another network than ``library`` builds under its name (parameter
    count off by more than ``PARAMS_TOLERANCE``); '' when it did not."""
    published_m, ours_m = row.published.get("param_count"), features["params"] / 1e6
    if published_m and abs(ours_m / published_m - 1) > PARAMS_TOLERANCE:
        return f"{published_m:g} M parameters published, {ours_m:.2f} M in {library}"
    return ""


def _arch(row: TimmRow, features: Mapping[str, float], library: str) -> dict[str, Any]:
    return {
        "space": SPACE,
        "name": row.model,
        "genotype": f"timm:{row.model}",
        "meta": {
            "model": f"timm:{row.model}",
            "input_shape": list(row.input_shape),
            "img_size": row.img_size,
            "batch": row.batch,
            "published": dict(row.published),
            "features": {k: float(features[k]) for k in FEATURES},
            "features_by": f"latbench.model_features on the meta device ({library})",
        },
    }


def import_timm_file(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    features_cache: str | os.PathLike[str] | None = None,
    license_text: str = "",
    license_file: str = "",
    origin: str = "",
    force: bool = False,
    compute: Callable[[str, int], dict[str, float]] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> TimmImportReport:
    """Write ``out_dir/<slug>/timm-published.networks.csv`` from a timm benchmark file.

    ``features_cache``: a ``model_features.FeatureCache`` CSV, read and extended; ``compute``
    replaces ``model_features.timm_features``. Raises ``LatbenchError`` when the target exists
    (without ``force``) or no row can be imported.
    """
    path = Path(path)
    rows = read_timm(path)
    slug = slug_of(
        path.name.removesuffix(".gz").removesuffix(".csv").removeprefix("benchmark-infer-")
    )
    target = default_table_path(slug, f"{SPACE}-{TABLE}.networks", out_dir)
    if target.exists() and not force:
        raise LatbenchError(f"{target} exists; pass --force to replace it")
    timm = import_library("timm")
    library = f"timm {timm.__version__}"
    report = TimmImportReport(read=len(rows), library=library)
    known = [r for r in rows if timm.is_model(r.model)]
    report.unknown = sorted({r.model for r in rows if not timm.is_model(r.model)})
    feats, failed = features_of(
        ((r.model, r.img_size) for r in known),
        FeatureCache(features_cache, library),
        compute or timm_features,
        progress=progress,
    )
    report.failed = {f"{m}@{s}": why for (m, s), why in failed.items()}
    described = file_provenance(path)
    origin = origin or "pytorch-image-models results/ (huggingface/pytorch-image-models)"
    prov = {
        **imported_provenance(
            path, origin, license_text, license_file, "the pytorch-image-models project"
        ),
        **described,
        "column": "infer_step_time",
        "unit": "ms",
        "per": "batch",
        "batch": "infer_batch_size (per row; input_shape carries it)",
        "conversion": "latency_*_ms = infer_step_time (ms per forward pass of the row's "
        "batch), checked against infer_samples_per_sec",
        "statistic": "one published value per model; it fills latency_median_ms, "
        "latency_mean_ms and latency_min_ms alike",
        "space": SPACE,
        "features": library,
    }
    meta = imported_meta(slug, f"{described['device']} ({slug}, imported)", SPACE, "", prov)
    out_rows: list[Mapping[str, Any]] = []
    for row in known:
        if (row.model, row.img_size) not in feats:
            continue
        features = feats[(row.model, row.img_size)]
        if why := changed_model(row, features, library):
            report.changed[f"{row.model}@{row.img_size}"] = why
            continue
        text = json.dumps(_arch(row, features, library), sort_keys=True)
        columns = {
            "arch_id": hashlib.sha1(text.encode()).hexdigest(),
            "space": SPACE,
            "size": "",
            "name": row.model,
            "genotype": f"timm:{row.model}",
            "arch_json": text,
            "n_ops": features["n_ops"],
            "n_params": features["params"],
            "input_shape": "x".join(map(str, row.input_shape)),
            "dtype": described.get("dtype", "float32"),
            "mode": "infer",
        }
        what = f"{path.name}, line {row.line}"
        out_rows.append(imported_row(columns, row.step_ms, meta["protocol_id"], what))
        report.batches[row.batch] += 1
    if not out_rows:
        raise LatbenchError(
            f"{path}: no row could be imported ({len(report.unknown)} model names unknown to "
            f"{library}, {len(report.failed)} failed on the meta device)"
        )
    meta["provenance"].update(skipped_unknown=report.unknown, skipped_failed=report.failed)
    write_table(target, NETWORKS, meta, out_rows)
    report.table, report.rows = target, len(out_rows)
    return report


@dataclass
class ModelNetworks:
    """Whole models measured on one device, one entry per (model, image size): what
    ``ModelTransferPredictor`` fits on."""

    names: list[str]
    img_size: np.ndarray  # (n,) px
    batch: np.ndarray  # (n,) images per forward pass
    features: np.ndarray  # (n, len(FEATURES)) per image
    latency_ms: np.ndarray  # (n,) ms per forward pass of the row's batch
    device: str = ""

    @property
    def keys(self) -> list[str]:
        """``model@img_size`` of each row."""
        return [f"{n}@{int(s)}" for n, s in zip(self.names, self.img_size)]

    def take(self, rows: np.ndarray) -> ModelNetworks:
        """The entries at the indices ``rows``."""
        return replace(
            self,
            names=[self.names[i] for i in rows],
            img_size=self.img_size[rows],
            batch=self.batch[rows],
            features=self.features[rows],
            latency_ms=self.latency_ms[rows],
        )


def is_model_table(table: str | os.PathLike[str]) -> bool:
    """True when the networks table at ``table`` holds whole models (space ``timm``)."""
    try:
        return read_meta(table).get("space") == SPACE
    except (OSError, LatbenchError):
        return False
