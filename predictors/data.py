"""A table's measured rows as the ``(X, y)`` of a predictor's ``fit``, with provenance:
``op_data(table).xy`` (OpSpecs, ms), ``network_data(table).xy`` (architectures, ms)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from latbench.archs import Architecture
from latbench.errors import TableError
from latbench.importing import provenance_line
from latbench.opspec import OpSpec
from latbench.predictors.persist import sha256_file
from latbench.tables import LATENCY, TableSchema, read_table
from latbench.tables.schema import NETWORKS
from latbench.tables.unique import require_unique_keys

TARGET = "latency_median_ms"


@dataclass
class OpData:
    """Measured ops: specs, their median latency, and where they came from."""

    specs: list[OpSpec]
    latency_ms: np.ndarray
    device: str = ""
    table_sha256: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    drift_reference: dict[str, Any] | None = None  # drift_reference(rows, meta)

    @property
    def xy(self) -> tuple[list[OpSpec], np.ndarray]:
        """``(X, y)`` of an op predictor's ``fit``: the specs and their latency (ms)."""
        return self.specs, self.latency_ms


def drift_reference(rows: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any] | None:
    """``{"nominal_ms", "reference"}``: the nominal reference time a table's ``*_corrected_ms``
    are relative to (the median of ``reference_ms / drift``, ``latbench.timing.measure_each``)
    and which drift reference was timed; None without reference rows. Saved with a predictor
    so that ``validate`` can correct its own measurement."""
    if "reference_ms" not in rows.columns or "drift" not in rows.columns:
        return None
    ratio = (rows["reference_ms"] / rows["drift"]).dropna()
    if ratio.empty:
        return None
    return {
        "nominal_ms": float(ratio.median()),
        "reference": str((meta.get("protocol") or {}).get("reference", "")),
    }


def _ok_rows(
    table: pd.DataFrame | str | os.PathLike[str], schema: TableSchema, columns: Sequence[str]
) -> tuple[pd.DataFrame, str, str, dict[str, Any]]:
    """The ok rows of a table given as a DataFrame or a path, the sha256 of what was read, how
    errors name the table, and its meta. A table file of another ``schema``, with a key written
    twice under one protocol, or without one of ``columns`` is refused (``TableError``)."""
    if isinstance(table, pd.DataFrame):  # assembled by code (e.g. several spaces' tables)
        df, where = table, "table"
        digest = hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()
    else:
        df, where = read_table(table, schema), str(table)
        require_unique_keys(df, where)
        digest = sha256_file(Path(table))
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TableError(
            f"{where}: no column {missing[0]!r}; expected a {schema.name} table"
            + (" (written by `latbench measure-nets`)" if schema is NETWORKS else "")
        )
    ok = df[df["status"] == "ok"] if "status" in df.columns else df
    return ok, digest, where, dict(df.attrs.get("meta", {}))


def op_data(table: pd.DataFrame | str | os.PathLike[str], target: str = TARGET) -> OpData:
    """The ``ok``, measured rows of a latency table (estimates and failures are left out);
    ``target`` is the statistic fitted (``latency_min_ms`` resists a loaded machine)."""
    df, digest, where, meta = _ok_rows(table, LATENCY, ("key", target))
    if "source" in df.columns:
        df = df[df["source"] != "estimated"]
    df = df.drop_duplicates("key", keep="last")
    df = df[df[target].notna()]
    if df.empty:
        raise TableError(
            f"{where}: no measured rows with status ok and a value in {target!r} "
            "to fit on (the -corrected statistics need a drift reference: "
            "profile with --rounds > 1, without --no-reference)"
        )
    return OpData(
        [OpSpec.from_key(k) for k in df["key"]],
        df[target].to_numpy(dtype=np.float64),
        meta.get("fingerprint", {}).get("slug", ""),
        digest,
        meta,
        drift_reference(df, meta),
    )


def fitted_sizes(ops: OpData | None = None, archs: Sequence[Any] = ()) -> dict[str, list[str]]:
    """Search space -> the sizes of it a predictor's tables hold (an op table's meta, each
    network's ``meta["size"]``), saved with it so that ``latbench predict`` defaults to them."""
    found: dict[str, set[str]] = {}
    meta = ops.meta if ops is not None else {}
    if meta.get("space") and meta.get("size"):
        found.setdefault(str(meta["space"]), set()).add(str(meta["size"]))
    for arch in archs:
        if arch.meta.get("size"):
            found.setdefault(arch.space, set()).add(str(arch.meta["size"]))
    return {space: sorted(sizes) for space, sizes in found.items()}


@dataclass
class NetworkData:
    """Whole networks measured as a whole: pass 1 is the reference, pass 2 (when the table
    has one) re-measures the same networks and gives the noise floor."""

    archs: list  # list[Architecture]
    latency_ms: np.ndarray
    repeat_ms: np.ndarray | None
    device: str = ""
    table_sha256: str = ""
    space: str = ""
    drift: np.ndarray | None = None  # per network, the machine's drift in pass 1 (and 2)
    repeat_drift: np.ndarray | None = None
    corrected: bool = False  # latency_ms / repeat_ms are drift-corrected statistics
    provenance: str = ""  # one line: measured here, or imported from where (for reports)
    drift_reference: dict[str, Any] | None = None  # as OpData's

    @property
    def xy(self) -> tuple[list, np.ndarray]:
        """``(X, y)`` of a network predictor's ``fit``: architectures, latency (ms, pass 1)."""
        return self.archs, self.latency_ms

    def rows(self, index: np.ndarray) -> NetworkData:
        """The networks at ``index`` (integer positions), every per-network array alike."""
        arrays = {k: getattr(self, k) for k in ("latency_ms", "repeat_ms", "drift", "repeat_drift")}
        picked: dict[str, Any] = {k: None if v is None else v[index] for k, v in arrays.items()}
        return replace(self, archs=[self.archs[i] for i in index], **picked)


def network_data(table: pd.DataFrame | str | os.PathLike[str], target: str = TARGET) -> NetworkData:
    """The ok rows of a ``latbench.networks`` table, one entry per architecture."""
    df, digest, where, meta = _ok_rows(table, NETWORKS, ("arch_id", "arch_json", "repeat", target))
    first = df[df["repeat"] == 1].drop_duplicates("arch_id", keep="last")
    if first.empty:
        raise TableError(f"{where}: no ok rows of repeat 1 to use")
    if first[target].isna().any():
        raise TableError(
            f"{where}: column {target!r} is empty in some ok rows; the -corrected "
            "statistics need networks measured with a drift reference "
            "(measure-nets with --rounds > 1, without --no-reference; else --stat median or min)"
        )
    second = df[df["repeat"] == 2].drop_duplicates("arch_id", keep="last").set_index("arch_id")
    repeat = repeat_drift = None
    drift = _drift(first)
    if first["arch_id"].isin(second.index).all():
        second = second.loc[first["arch_id"]]
        repeat = second[target].to_numpy(dtype=np.float64)
        repeat_drift = _drift(second)
    archs = [Architecture.from_json(t) for t in first["arch_json"]]
    return NetworkData(
        archs,
        first[target].to_numpy(dtype=np.float64),
        repeat,
        meta.get("fingerprint", {}).get("slug", ""),
        digest,
        str(meta.get("space", archs[0].space)),
        drift,
        repeat_drift if drift is not None else None,
        target.endswith("_corrected_ms"),
        provenance_line(meta),
        drift_reference(first, meta),
    )


def _drift(rows: pd.DataFrame) -> np.ndarray | None:
    if "drift" not in rows.columns or rows["drift"].isna().any():
        return None
    return rows["drift"].to_numpy(dtype=np.float64)
