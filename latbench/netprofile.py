"""Whole-network measurement: time a discrete architecture as one module, like an op.

Predictions of network latency (sums of op latencies, longest paths, calibrations) are only
worth what they are checked against; this module measures the networks themselves into a
crash-safe table (schema ``latbench.networks``), one fsync'ed row per network and repeat, so a
killed run resumes with the networks not yet measured under the same protocol.

Repeats: ``repeats=2`` measures every network twice (rows ``repeat=1`` and ``repeat=2``, same
protocol, each pass its own build of the network): the difference between the two is the
measurement's own noise floor, the best any predictor can hope to match. An interleaving timer
(``rounds > 1``) measures the passes of a group of networks together: every round times each
network once per pass (A1 B1 A2 B2 ...), beside the drift reference, so the machine's slow drift
hits both passes alike: 93.5 % of a model zoo's held-out models repeated within ±10 % at load
11-18 on 2 cores, 73.9 % pass after pass in the same run and 87 % on an idle machine
(bench/model_zoo.results.md). Without rounds, pass ``r + 1`` follows all of pass ``r``.
"""

from __future__ import annotations

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
    """The descriptive columns of a network row (no measurement); ``compact`` stores the
    architecture as its genotype and build meta (``latbench.architecture.compact_dict``), which
    ``read_architectures`` rebuilds: a few hundred bytes instead of ~8 KB a paper-size net."""
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


def _network_row(
    arch: Architecture, timer: Timer, size: str
) -> tuple[dict[str, Any], Callable[[], Callable[[], object]]]:
    """The row's own columns, and the maker of the network's timed callable."""
    row = {**arch_columns(arch, size), "source": "measured"}

    def make() -> Callable[[], object]:
        module = arch.build(timer.device)
        row["n_params"] = sum(p.numel() for p in module.parameters())
        return module_callable(module, arch.example_inputs(timer.device), row["mode"])

    return row, make


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
        made = [_network_row(arch, self.timer, self.size) for arch, _ in items]
        timed = time_guarded_many([make for _, make in made], self.timer, on_round, on_turn=on_turn)
        return [
            {**self.describe(item), **row, **fields}
            for item, (row, _), (fields, _) in zip(items, made, timed, strict=True)
        ]


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
    """Measure every (network, repeat) not yet in the table at ``path`` under this protocol.

    The passes (1..repeats) of a group of networks are interleaved round by round when the
    timer interleaves, else pass ``r`` measures all networks before pass ``r + 1`` starts
    (``pass_items``); ``size`` labels rows whose architecture does not name its size in
    ``meta``. Keys in the returned run are ``network_key(arch_id, repeat)``; ``run_options``
    go to ``run_into_table``.
    """
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
    """(architecture, repeat) items in measuring order, and each one's interleaved group.

    Groups of ``group_size // repeats`` networks hold every pass of their networks, pass by
    pass (A1 B1 A2 B2 for two networks and two passes); with ``group_size < repeats`` (no
    interleaving) all networks are one group, measured pass after pass.
    """
    per = group_size // repeats or max(1, len(archs))
    items, groups = [], []
    for g, start in enumerate(range(0, len(archs), per)):
        chunk = archs[start : start + per]
        items += [(arch, r) for r in range(1, repeats + 1) for arch in chunk]
        groups += [g] * (len(chunk) * repeats)
    return items, groups


def refuse_imported(path: str | os.PathLike[str]) -> None:
    """A ``TableError`` if the table at ``path`` holds imported rows: measurements made here
    never go into a table of numbers measured elsewhere."""
    if Path(path).is_file() and read_meta(path).get("source") == "imported":
        raise TableError(
            f"{path}: holds imported rows (`latbench import-nets`); measure into another table"
        )


def read_networks(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A networks table, checked to be one (``read_table`` reads any schema)."""
    df = read_table(path)
    if df.attrs["meta"]["schema"] != NETWORKS.name:
        raise TableError(
            f"{path}: schema is {df.attrs['meta']['schema']!r}; expected "
            f"{NETWORKS.name!r} (a table written by measure-nets)"
        )
    return df


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
