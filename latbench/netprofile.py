"""Whole-network measurement: time a discrete architecture as one module, like an op, into a
crash-safe ``latbench.networks`` table (one fsync'ed row per network and repeat; a killed run
resumes with the networks not yet measured under the same protocol).

``repeats=2`` measures every network twice (rows ``repeat=1`` and ``2``, each pass its own
build): their difference is the measurement's noise floor. An interleaving timer (``rounds > 1``)
times each network once per pass every round (A1 B1 A2 B2 ...), so slow drift hits both passes
alike: 93.5 % of a model zoo's models repeated within ±10 % at load 11-18 on 2 cores, against
73.9 % pass after pass (bench/model_zoo.results.md).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from latbench.architecture import Architecture, compact_dict
from latbench.errors import LatbenchError, TableError
from latbench.profile import timer_job_fields
from latbench.tablerun.driver import TableRun, run_into_table
from latbench.tablerun.ids import ARCH_ID_SCHEME, arch_id, row_arch_ids
from latbench.tablerun.job import OnRound, OnTurn, TableJob
from latbench.tablerun.paths import default_table_path
from latbench.tables import read_table
from latbench.tables.schema import NETWORKS
from latbench.tables.store import read_meta
from latbench.timed import module_callable, time_guarded_many
from latbench.timing import Timer


def network_key(aid: str, repeat: int) -> str:
    """The table key of one network and pass: ``<arch_id>:<repeat>``."""
    return f"{aid}:{int(repeat)}"


def default_networks_path(
    slug: str, space: str, size: str, root: str | os.PathLike[str] | None = None
) -> Path:
    """``<tables home>/<device-slug>/<space>-<size>.networks.csv``."""
    return default_table_path(slug, f"{space}-{size}.networks", root)


def arch_columns(arch: Architecture, size: str = "", *, compact: bool = False) -> dict[str, Any]:
    """The descriptive columns of a network row; ``compact`` stores the architecture as its
    genotype and build meta (``latbench.architecture.compact_dict``)."""
    mode = "train" if any(e.op.mode == "train" for e in arch.edges) else "infer"
    text = json.dumps(compact_dict(arch), sort_keys=True) if compact else arch.to_json()
    return {
        "arch_id": arch_id(arch),
        "space": arch.space,
        "size": str(arch.meta.get("size", size)),
        "name": arch.name,
        "genotype": arch.genotype,
        "arch_json": text,
        "n_ops": len(arch.edges),
        "input_shape": "x".join(map(str, arch.input_shape)),
        "dtype": arch.dtype,
        "mode": mode,
    }


def _built(arch: Architecture, device: str, row: dict[str, Any]) -> Callable[[], object]:
    """The network's timed callable; its parameter count goes into ``row``."""
    module = arch.build(device)
    row["n_params"] = sum(p.numel() for p in module.parameters())
    return module_callable(module, arch.example_inputs(device), row["mode"])


@dataclass
class NetworkJob(TableJob[tuple[Architecture, int]]):
    """Whole networks timed by one timer into a ``latbench.networks`` table; items are
    (architecture, repeat). ``group_of`` (network key -> group) keeps each interleaved group to
    the passes of its own networks (``pass_items``)."""

    timer: Any = None
    size: str = ""
    group_of: dict[str, int] = field(default_factory=dict)

    def key(self, item: tuple[Architecture, int]) -> str:
        return network_key(arch_id(item[0]), item[1])

    def side_car(self) -> dict[str, Any]:
        return {**super().side_car(), "arch_id_scheme": ARCH_ID_SCHEME}

    def done_keys(self, table: pd.DataFrame) -> set[str]:
        df = table[table["protocol_id"] == self.protocol_id]
        return {network_key(a, int(r)) for a, r in zip(row_arch_ids(df), df["repeat"])}

    def key_columns(self, item: tuple[Architecture, int]) -> dict[str, Any]:
        return self.describe(item)  # the architecture's own columns: nothing is built

    def phase(self, item: tuple[Architecture, int]) -> int:
        return self.group_of.get(self.key(item), item[1])

    def describe(self, item: tuple[Architecture, int]) -> dict[str, Any]:
        return {
            **arch_columns(item[0], self.size),
            "source": "measured",
            "repeat": item[1],
            "protocol_id": self.protocol_id,
        }

    def measure(
        self,
        items: Sequence[tuple[Architecture, int]],
        on_round: OnRound | None = None,
        on_turn: OnTurn | None = None,
    ) -> list[dict[str, Any]]:
        rows = [self.describe(item) for item in items]
        makers = [
            functools.partial(_built, arch, self.timer.device, row)
            for (arch, _), row in zip(items, rows)
        ]
        timed = time_guarded_many(makers, self.timer, on_round, on_turn=on_turn)
        return [{**row, **fields} for row, (fields, _) in zip(rows, timed, strict=True)]


def measure_architectures(
    archs: Iterable[Architecture],
    path: str | os.PathLike[str],
    timer: Timer,
    *,
    repeats: int = 1,
    size: str = "",
    meta: dict[str, Any] | None = None,
    on_progress: Callable[[Architecture, dict[str, Any] | None], None] | None = None,
    **run_options: Any,
) -> TableRun:
    """Measure every (network, repeat) not yet in the table at ``path`` under this protocol,
    in ``pass_items``' order. ``size`` labels rows whose architecture's ``meta`` names none; keys
    of the returned run are ``network_key(arch_id, repeat)``; ``run_options`` go to
    ``run_into_table``."""
    if repeats < 1:
        raise LatbenchError(f"repeats={repeats!r} must be at least 1")
    archs = list(archs)
    refuse_imported(path)
    job = NetworkJob(
        **timer_job_fields(timer, NETWORKS), meta=dict(meta or {}), timer=timer, size=size
    )
    items, groups = pass_items(archs, repeats, job.group_size)
    job.group_of = {job.key(item): g for item, g in zip(items, groups)}
    progress = (lambda item, row: on_progress(item[0], row)) if on_progress else None
    return run_into_table(job, items, path, on_progress=progress, **run_options)


def pass_items(
    archs: Sequence[Architecture], repeats: int, group_size: int
) -> tuple[list[tuple[Architecture, int]], list[int]]:
    """(architecture, repeat) items in measuring order, and each one's interleaved group:
    ``group_size // repeats`` networks, pass by pass (A1 B1 A2 B2); with ``group_size < repeats``
    (no interleaving) all networks are one group, measured pass after pass."""
    per = group_size // repeats or max(1, len(archs))
    items, groups = [], []
    for g, start in enumerate(range(0, len(archs), per)):
        chunk = archs[start : start + per]
        items += [(arch, r) for r in range(1, repeats + 1) for arch in chunk]
        groups += [g] * (len(chunk) * repeats)
    return items, groups


def refuse_imported(path: str | os.PathLike[str]) -> None:
    """``TableError`` if the table at ``path`` holds imported rows (measured elsewhere)."""
    if Path(path).is_file() and read_meta(path).get("source") == "imported":
        raise TableError(
            f"{path}: holds imported rows (`latbench import-nets`); measure into another table"
        )


def read_networks(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A networks table; ``TableError`` for a table of another schema."""
    return read_table(path, NETWORKS)


def read_architectures(table: pd.DataFrame | str | os.PathLike[str]) -> list[Architecture]:
    """The distinct architectures of a networks table (path or DataFrame), in table order."""
    df = table if isinstance(table, pd.DataFrame) else read_networks(table)
    if "arch_json" not in df.columns:
        raise TableError(
            f"table has no 'arch_json' column (columns: {', '.join(df.columns)}); "
            "expected a latbench.networks table"
        )
    firsts = df.drop_duplicates("arch_id") if "arch_id" in df.columns else df
    return [Architecture.from_json(text) for text in firsts["arch_json"]]
