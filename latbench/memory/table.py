"""Memory tables (schema ``latbench.memory``): one row per op or architecture and config,
written through ``latbench.tablerun``. ``source`` says measured or estimated (``parts``: which
terms were modelled); architecture rows are keyed ``arch:<arch_id>``, joining networks tables.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from latbench.device import fingerprint as device_fingerprint
from latbench.errors import LatbenchError, TableError
from latbench.memory.child import CHILD_TIMEOUT_S, run_child
from latbench.memory.cpu import MALLOC_ENV
from latbench.memory.gpu import alloc_conf
from latbench.memory.steps import Subject, TrainConfig, subject_to_json
from latbench.opspec import OpSpec
from latbench.tablerun.driver import run_into_table
from latbench.tablerun.ids import ARCH_ID_SCHEME, arch_id, row_arch_ids
from latbench.tablerun.job import OnRound, OnTurn, TableJob
from latbench.tablerun.paths import default_table_path
from latbench.tablerun.rows import spec_columns
from latbench.tables import read_table
from latbench.tables.schema import MEMORY

if TYPE_CHECKING:
    import pandas as pd


def read_memory_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The memory table at ``path`` (``read_table``), each row's ``config_json`` read as a
    ``TrainConfig``: a ``TableError`` naming the file, line and field of one that is not."""
    table = read_table(path, MEMORY)
    for i, text in enumerate(table["config_json"]):
        if text:
            where = f"{path}: line {i + 2}, field 'config_json'"
            try:
                TrainConfig.from_dict(json.loads(text), where)
            except LatbenchError as exc:
                raise TableError(str(exc)) from None
    return table


def subject_columns(subject: Subject, config: TrainConfig) -> dict[str, Any]:
    """Key and description columns of a row for ``subject`` under ``config``."""
    common = {
        "optimizer": config.optimizer,
        "steps": config.steps,
        "mode": "train",
        "config_json": json.dumps(config.to_dict(), sort_keys=True),
    }
    shape = (
        subject.input_shape if config.batch is None else (config.batch, *subject.input_shape[1:])
    )
    if isinstance(subject, OpSpec):
        row = spec_columns(subject.replace(input_shape=shape, mode="train"))
        return {**row, **common, "subject": "op", "batch": shape[0]}
    aid = arch_id(subject)
    return {
        **common,
        "key": f"arch:{aid}",
        "subject": "arch",
        "arch_id": aid,
        "space": subject.space,
        "arch_json": subject.to_json(),
        "dtype": subject.dtype,
        "input_shape": "x".join(map(str, shape)),
        "batch": shape[0],
    }


def default_memory_table(slug: str, name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """``<tables home>/<device-slug>/memory-<name>.csv``."""
    return default_table_path(slug, f"memory-{name}", root)


def measured_column(device: str) -> str:
    """The column a measurement on ``device`` fills: ``rss_growth_mib`` on a CPU,
    ``nvml_process_mib`` (what nvidia-smi shows for the process) on CUDA."""
    return "nvml_process_mib" if device.startswith("cuda") else "rss_growth_mib"


def measure_memory(
    subject: Subject,
    device: str,
    config: TrainConfig,
    threads: int | None = None,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Training memory of ``subject`` on ``device`` in a fresh process (``run_child``): the GPU
    protocol (``latbench.memory.gpu``) on CUDA, else peak RSS growth with ``threads``
    (``latbench.memory.cpu``); ``status=timeout`` when no result comes within ``timeout_s``
    (default ``CHILD_TIMEOUT_S``)."""
    cpu = not device.startswith("cuda")
    job: dict[str, Any] = {"device": device, "subject": subject_to_json(subject)}
    job |= {"config": config.to_dict(), **({"threads": threads} if cpu else {})}
    return run_child(job, MALLOC_ENV if cpu else None, timeout_s or CHILD_TIMEOUT_S)


@dataclass
class MemoryJob(TableJob[Subject]):
    """Subjects measured one at a time by ``measure_fn(subject) -> fields``."""

    measure_fn: Callable[[Subject], dict[str, Any]] | None = None
    config: TrainConfig = TrainConfig()

    def key(self, item: Subject) -> str:
        return str(subject_columns(item, self.config)["key"])

    def side_car(self) -> dict[str, Any]:
        return {**super().side_car(), "arch_id_scheme": ARCH_ID_SCHEME}

    def done_keys(self, table: pd.DataFrame) -> set[str]:
        """Keys under this protocol; an architecture's as ``arch_id`` computes it now
        (``row_arch_ids``: a table written before canonical ids is resumed, not redone)."""
        df = table[table["protocol_id"] == self.protocol_id]
        if "arch_id" not in df or "subject" not in df:
            return set(df["key"])
        ids = row_arch_ids(df)
        return {
            f"arch:{aid}" if subject == "arch" else key
            for key, subject, aid in zip(df["key"], df["subject"], ids)
        }

    def key_columns(self, item: Subject) -> dict[str, Any]:
        if isinstance(item, OpSpec):  # its features would build it
            return {"key": self.key(item), "protocol_id": self.protocol_id, "source": "measured"}
        return self.describe(item)  # the architecture's own columns: nothing is built

    def describe(self, item: Subject) -> dict[str, Any]:
        return {
            **subject_columns(item, self.config),
            "source": "measured",
            "protocol_id": self.protocol_id,
        }

    def measure(
        self,
        items: Sequence[Subject],
        on_round: OnRound | None = None,
        on_turn: OnTurn | None = None,
    ) -> list[dict[str, Any]]:
        assert self.measure_fn is not None
        rows = []
        for i, item in enumerate(items):
            if on_turn is not None:
                on_turn(i)
            fields = self.measure_fn(item)
            rows.append(
                {**self.describe(item), **{k: v for k, v in fields.items() if k in MEMORY.columns}}
            )
        return rows


def memory_job(
    device: str,
    config: TrainConfig,
    measure: Callable[[Subject], dict[str, Any]],
    threads: int | None = None,
) -> MemoryJob:
    """The job measuring training memory on ``device`` with ``threads`` CPU threads."""
    protocol = {"device_type": device.split(":")[0], "train": config.to_dict(), "threads": threads}
    if device.startswith("cuda"):
        protocol["alloc_conf"] = alloc_conf()  # the caching allocator's settings, as measured
    return MemoryJob(
        schema=MEMORY,
        protocol=protocol,
        fingerprint=device_fingerprint(device, threads=threads),
        measure_fn=measure,
        config=config,
    )


def measure_into_table(
    subjects: Iterable[Subject],
    path: str | os.PathLike[str],
    measure: Callable[[Subject], dict[str, Any]],
    device: str,
    config: TrainConfig,
    *,
    threads: int | None = None,
    on_row: Callable[[Subject, dict[str, Any] | None], None] | None = None,
    **run_options: Any,
) -> list[dict[str, Any]]:
    """Measure each subject not yet in the table under this protocol, rows written one by one,
    with ``measure(subject) -> fields``; the rows written (``run_options``: ``run_into_table``)."""
    job = memory_job(device, config, measure, threads)
    return run_into_table(job, subjects, path, on_progress=on_row, **run_options).rows
