"""Profiling: measure OpSpecs on one device into a crash-safe ``latbench.latency`` table
(``latbench.tablerun``: a re-run measures only the keys missing under the same protocol). An
interleaving timer (``rounds > 1``) measures ``INTERLEAVE_GROUP`` ops round-robin and writes
their rows when the group ends.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from latbench.device import fingerprint as device_fingerprint
from latbench.opspec import OpSpec
from latbench.tablerun.driver import TableRun, run_into_table
from latbench.tablerun.ids import protocol_id
from latbench.tablerun.job import OnRound, OnTurn, TableJob
from latbench.tablerun.rows import spec_columns
from latbench.tables import LATENCY, TableSchema
from latbench.timed import op_callable, time_guarded_many
from latbench.timing import Timer

INTERLEAVE_GROUP = 256
"""Ops measured round-robin together when the timer interleaves (held in memory at once)."""
INTERLEAVE_BYTES = 512 * 2**20
"""At most this many bytes of inputs and outputs (``OpLatencyJob.item_bytes``) in one
interleaved group (``ofa-mbv3 --size paper``: 256 ops hold 2.7-4.9 GB)."""


def protocol_of(timer: Timer) -> tuple[dict[str, Any], str]:
    """The timer's protocol (device type + ``timer.describe()``) and its short id."""
    protocol = {"device_type": torch.device(timer.device).type, **timer.describe()}
    return protocol, protocol_id(protocol)


def timer_job_fields(timer: Timer, schema: TableSchema = LATENCY) -> dict[str, Any]:
    """Schema, protocol, fingerprint and group size of a job measured by ``timer``."""
    protocol, _ = protocol_of(timer)
    threads = protocol.get("threads")
    fp = device_fingerprint(timer.device, threads=threads if isinstance(threads, int) else None)
    return {
        "schema": schema,
        "protocol": protocol,
        "fingerprint": fp,
        "group_size": INTERLEAVE_GROUP if timer.config.rounds > 1 else 1,
        "group_bytes": INTERLEAVE_BYTES,
    }


@dataclass
class OpLatencyJob(TableJob[OpSpec]):
    """Ops timed by one timer into a ``latbench.latency`` table."""

    timer: Any = None

    @classmethod
    def of(cls, timer: Timer, meta: dict[str, Any] | None = None) -> OpLatencyJob:
        return cls(**timer_job_fields(timer), meta=dict(meta or {}), timer=timer)

    def key(self, item: OpSpec) -> str:
        return item.key

    def key_columns(self, item: OpSpec) -> dict[str, Any]:
        return {**super().key_columns(item), **spec_columns(item, features=False)}

    def describe(self, item: OpSpec) -> dict[str, Any]:
        return {**super().key_columns(item), **spec_columns(item)}

    def item_bytes(self, item: OpSpec) -> float:
        """Its input and an output of the same size (bytes): what a built op holds."""
        return 2.0 * math.prod(item.input_shape) * getattr(torch, item.dtype).itemsize

    def warm_up(self) -> None:
        """Import torch's meta-device code (2-4 s) through a tiny convolution's features."""
        with contextlib.suppress(Exception):
            spec_columns(OpSpec.make("conv", (1, 1, 4, 4), kernel=1))

    def measure(
        self,
        items: Sequence[OpSpec],
        on_round: OnRound | None = None,
        on_turn: OnTurn | None = None,
    ) -> list[dict[str, Any]]:
        makers = [functools.partial(op_callable, spec, self.timer.device) for spec in items]
        timed = time_guarded_many(makers, self.timer, on_round, on_turn=on_turn)
        return [{**self.describe(spec), **fields} for spec, (fields, _) in zip(items, timed)]


def profile_specs(
    specs: Iterable[OpSpec],
    path: str | os.PathLike[str],
    timer: Timer,
    *,
    meta: dict[str, Any] | None = None,
    on_progress: Callable[[OpSpec, dict[str, Any] | None], None] | None = None,
    **run_options: Any,
) -> TableRun:
    """Measure every spec not yet in the table at ``path`` under this timer's protocol;
    ``run_options`` go to ``tablerun.run_into_table``."""
    return run_into_table(
        OpLatencyJob.of(timer, meta), specs, path, on_progress=on_progress, **run_options
    )
