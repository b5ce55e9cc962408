"""Whole-network measurement: time a discrete architecture as one module, like an op.

Predictions of network latency (sums of op latencies, longest paths, calibrations) are only
worth what they are checked against; this module measures the networks themselves into a
crash-safe table (schema ``latbench.networks``), one fsync'ed row per network and repeat, so a
killed run resumes with the networks not yet measured under the same protocol.

Repeats: ``repeats=2`` measures every network once, then every network again in a second pass
(rows ``repeat=1`` and ``repeat=2``, same protocol). The second pass comes after the first, not
back to back, so the difference between the two includes the drift a fresh re-measurement sees:
it is the measurement's own noise floor, the best any predictor can hope to match.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from latbench.archs.graph import Architecture
from latbench.archs.registry import compact_dict
from latbench.errors import LatbenchError, TableError
from latbench.profile import (DEFAULT_PROFILE_DIR, module_callable, open_measured_table,
                              measure_in_groups, time_guarded)
from latbench.tables import read_table
from latbench.tables.store import read_meta
from latbench.tables.schema import NETWORKS
from latbench.timing import Timer
from latbench.timing.measurement import Measurement



def arch_id(arch: Architecture) -> str:
    """The architecture's id: sha1 (hex) of its JSON."""
    return hashlib.sha1(arch.to_json().encode()).hexdigest()


def default_networks_path(slug: str, space: str, size: str,
                          root: str | os.PathLike[str] = DEFAULT_PROFILE_DIR) -> Path:
    """``device_profiles/<device-slug>/<space>-<size>.networks.csv``."""
    return Path(root) / slug / f"{space}-{size}.networks.csv"


def arch_columns(arch: Architecture, size: str = "", *, compact: bool = False) -> dict[str, Any]:
    """The descriptive columns of a network row (no measurement); ``compact`` stores the
    architecture as its genotype and build meta (``archs.registry.compact_dict``), which
    ``read_architectures`` rebuilds: a few hundred bytes instead of ~8 KB a paper-size net."""
    mode = "train" if any(e.op.mode == "train" for e in arch.edges) else "infer"
    text = json.dumps(compact_dict(arch), sort_keys=True) if compact else arch.to_json()
    return {"arch_id": arch_id(arch), "space": arch.space,
            "size": str(arch.meta.get("size", size)),
            "name": arch.name, "genotype": arch.genotype, "arch_json": text,
            "n_ops": len(arch.edges), "input_shape": "x".join(map(str, arch.input_shape)),
            "dtype": arch.dtype, "mode": mode}


def _network_row(arch: Architecture, timer: Timer, size: str
                 ) -> tuple[dict[str, Any], Callable[[], Callable[[], object]]]:
    """The row's own columns, and the maker of the network's timed callable."""
    row = {**arch_columns(arch, size), "source": "measured"}

    def make() -> Callable[[], object]:
        module = arch.build(timer.device)
        row["n_params"] = sum(p.numel() for p in module.parameters())
        return module_callable(module, arch.example_inputs(timer.device), row["mode"])

    return row, make


def measure_architecture(arch: Architecture, timer: Timer, size: str = ""
                         ) -> tuple[dict[str, Any], Measurement | None]:
    """One row for ``arch``: the whole network's statistics, or its error/OOM as data."""
    row, make = _network_row(arch, timer, size)
    fields, result = time_guarded(make, timer)
    row.update(fields)
    return row, result


@dataclass
class NetworkRun:
    """What a network-measuring run did, as (arch_id, repeat) pairs."""

    path: Path
    protocol_id: str
    measured: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[tuple[str, int]] = field(default_factory=list)
    failed: list[tuple[str, int]] = field(default_factory=list)


def _done(path: Path, protocol_id: str) -> set[tuple[str, int]]:
    df = read_table(path)
    df = df[df["protocol_id"] == protocol_id]
    return {(a, int(r)) for a, r in zip(df["arch_id"], df["repeat"])}


def measure_architectures(
    archs: Iterable[Architecture],
    path: str | os.PathLike[str],
    timer: Timer,
    *,
    repeats: int = 1,
    size: str = "",
    meta: dict[str, Any] | None = None,
    on_progress: Callable[[Architecture, dict[str, Any] | None], None] | None = None,
) -> NetworkRun:
    """Measure every (network, repeat) not yet in the table at ``path`` under this protocol.

    Pass ``r`` (1..repeats) measures all networks before pass ``r + 1`` starts; ``size``
    labels rows whose architecture does not name its size in ``meta``.
    """
    if repeats < 1:
        raise LatbenchError(f"repeats={repeats!r} must be at least 1")
    archs = list(archs)
    refuse_imported(path)
    writer, pid = open_measured_table(path, NETWORKS, timer, meta)
    run, done = NetworkRun(Path(path), pid), _done(Path(path), pid)
    for repeat in range(1, repeats + 1):
        pending, queued = [], set()
        for arch in archs:
            aid = arch_id(arch)
            if (aid, repeat) in done or aid in queued:
                run.skipped.append((aid, repeat))
                if on_progress:
                    on_progress(arch, None)
            else:
                pending.append(arch)
                queued.add(aid)
        for arch, row in measure_in_groups(pending, lambda a: _network_row(a, timer, size),
                                           timer):
            key = (arch_id(arch), repeat)
            row.update(repeat=repeat, protocol_id=pid,
                       measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
            writer.append(row)
            done.add(key)
            (run.measured if row["status"] == "ok" else run.failed).append(key)
            if on_progress:
                on_progress(arch, row)
    return run


def refuse_imported(path: str | os.PathLike[str]) -> None:
    """A ``TableError`` if the table at ``path`` holds imported rows: measurements made here
    never go into a table of numbers measured elsewhere."""
    if Path(path).is_file() and read_meta(path).get("source") == "imported":
        raise TableError(f"{path}: holds imported rows (`latbench import-nets`); measure into "
                         "another table")


def read_networks(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A networks table, checked to be one (``read_table`` reads any schema)."""
    df = read_table(path)
    if df.attrs["meta"]["schema"] != NETWORKS.name:
        raise TableError(f"{path}: schema is {df.attrs['meta']['schema']!r}; expected "
                         f"{NETWORKS.name!r} (a table written by measure-nets)")
    return df


def read_architectures(table: pd.DataFrame | str | os.PathLike[str]) -> list[Architecture]:
    """The distinct architectures of a networks table (path or DataFrame), in table order."""
    df = table if isinstance(table, pd.DataFrame) else read_networks(table)
    if "arch_json" not in df.columns:
        raise TableError(f"table has no 'arch_json' column (columns: {', '.join(df.columns)}); "
                         "expected a latbench.networks table")
    firsts = df.drop_duplicates("arch_id") if "arch_id" in df.columns else df
    return [Architecture.from_json(text) for text in firsts["arch_json"]]
