"""Profiling: measure a list of OpSpecs on one device into a crash-safe latency table.

Each op is built, timed and written as one fsync'ed row before the next starts, so a run that
is killed, runs out of memory or meets a bad op loses nothing already measured; a re-run
measures only the keys missing under the same protocol. A timer that interleaves
(``TimingConfig.rounds > 1``) measures ``INTERLEAVE_GROUP`` items round-robin and writes
their rows when the group ends: an interrupted run loses at most that group's measurements.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import torch

from latbench.device import fingerprint as device_fingerprint
from latbench.opspec import OpSpec
from latbench.tables import LATENCY, TableSchema, TableWriter
from latbench.timing import Timer
from latbench.timing.measurement import Measurement

DEFAULT_PROFILE_DIR = Path("device_profiles")

INTERLEAVE_GROUP = 256
"""Items built and measured round-robin together when the timer interleaves. One group shares
one stretch of time, so the larger it is, the less a shift of the machine's speed between
groups shows in the table; all of a group's modules are held in memory at once."""

T = TypeVar("T")


def protocol_of(timer: Timer) -> tuple[dict[str, Any], str]:
    """The timer's protocol and its short id (rows of another protocol are measured again)."""
    protocol = {"device_type": torch.device(timer.device).type, **timer.describe()}
    digest = hashlib.sha1(json.dumps(protocol, sort_keys=True).encode()).hexdigest()[:12]
    return protocol, digest


def default_table_path(slug: str, space: str, size: str,
                       root: str | os.PathLike[str] = DEFAULT_PROFILE_DIR) -> Path:
    """``device_profiles/<device-slug>/<space>-<size>.csv``."""
    return Path(root) / slug / f"{space}-{size}.csv"


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def op_callable(spec: OpSpec, device: str) -> Callable[[], object]:
    """What gets timed: forward (infer mode, no autograd) or forward + backward (train mode)."""
    return module_callable(spec.build(device), spec.example_inputs(device), spec.mode)


def module_callable(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...],
                    mode: str) -> Callable[[], object]:
    """Forward without autograd (``infer``) or forward + backward (``train``) of ``module``."""
    if mode == "infer":
        def forward() -> object:
            with torch.inference_mode():
                return module(*inputs)
        return forward

    def train_step() -> object:
        out = module(*inputs)
        (out[0] if isinstance(out, (tuple, list)) else out).float().sum().backward()
        return out
    return train_step


def spec_columns(spec: OpSpec) -> dict[str, Any]:
    """The OpSpec and feature columns of a table row."""
    row: dict[str, Any] = {
        "key": spec.key, "kind": spec.kind, "op_params": json.dumps(dict(spec.params)),
        "input_shape": "x".join(map(str, spec.input_shape)), "dtype": spec.dtype,
        "mode": spec.mode,
    }
    with contextlib.suppress(Exception):  # features are optional; a failing meta run leaves them empty
        f = spec.features()
        row.update(flops=f["flops"], n_params=f["params"], bytes_read=f["bytes_read"],
                   bytes_written=f["bytes_written"])
    return row


def _failure_fields(exc: BaseException) -> dict[str, Any]:
    status = "oom" if _is_oom(exc) else "error"
    return {"status": status, "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:500]}


def time_guarded_many(makers: Sequence[Callable[[], Callable[[], object]]], timer: Timer
                      ) -> list[tuple[dict[str, Any], Measurement | None]]:
    """Build (each of ``makers``) and time the callables together; failures become fields.

    Each result is ``status``, ``error`` and, when ok, the latency statistics columns, with the
    Measurement. Shared by the op and the whole-network profilers so both record errors and
    OOMs alike; several makers are measured interleaved when the timer's ``rounds > 1``.
    """
    out: list[tuple[dict[str, Any], Measurement | None] | None] = [None] * len(makers)
    built: list[tuple[int, Callable[[], object]]] = []
    try:
        for i, make in enumerate(makers):
            try:
                built.append((i, make()))
            except Exception as exc:  # noqa: BLE001 - one item's failure is recorded, the run goes on
                out[i] = (_failure_fields(exc), None)
        results = timer.measure_many([fn for _, fn in built])
        for (i, _), result in zip(built, results):
            out[i] = ((_failure_fields(result), None) if isinstance(result, Exception)
                      else ({"status": "ok", "error": "", **result.stats()}, result))
    finally:
        built.clear()
        gc.collect()
        if torch.device(timer.device).type == "cuda":
            torch.cuda.empty_cache()
    return out  # type: ignore[return-value]


def time_guarded(make_fn: Callable[[], Callable[[], object]], timer: Timer
                 ) -> tuple[dict[str, Any], Measurement | None]:
    """``time_guarded_many`` for one callable."""
    return time_guarded_many([make_fn], timer)[0]


def measure_in_groups(items: Sequence[T],
                      make: Callable[[T], tuple[dict[str, Any], Callable[[], Callable[[], object]]]],
                      timer: Timer) -> Iterator[tuple[T, dict[str, Any]]]:
    """(item, row) for every item: ``make(item)`` gives the row's own columns and the maker of
    its callable; one at a time, or ``INTERLEAVE_GROUP`` at a time when the timer interleaves."""
    size = INTERLEAVE_GROUP if timer.config.rounds > 1 else 1
    for start in range(0, len(items), size):
        group = list(items[start:start + size])
        made = [make(item) for item in group]
        timed = time_guarded_many([maker for _, maker in made], timer)
        for item, (row, _), (fields, _) in zip(group, made, timed):
            row.update(fields)
            yield item, row


def measure_op(spec: OpSpec, timer: Timer) -> tuple[dict[str, Any], Measurement | None]:
    """One table row for ``spec``: its statistics, or its error/OOM recorded as data."""
    row = {**spec_columns(spec), "source": "measured"}
    fields, result = time_guarded(lambda: op_callable(spec, timer.device), timer)
    row.update(fields)
    return row, result


@dataclass
class ProfileRun:
    """What a profiling run did: rows written, skipped (already measured) and failed."""

    path: Path
    protocol_id: str
    measured: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def open_measured_table(path: str | os.PathLike[str], schema: TableSchema, timer: Timer,
                        meta: dict[str, Any] | None = None) -> tuple[TableWriter, str]:
    """A writer for a table of ``schema`` measured by ``timer`` (fingerprint and protocol in its
    side-car), and the protocol id its rows carry."""
    protocol, pid = protocol_of(timer)
    threads = protocol.get("threads")
    fp = device_fingerprint(timer.device, threads=threads if isinstance(threads, int) else None)
    writer = TableWriter(path, schema, {"fingerprint": fp, "protocol": protocol,
                                        "protocol_id": pid, **(meta or {})})
    return writer, pid


def profile_specs(
    specs: Iterable[OpSpec],
    path: str | os.PathLike[str],
    timer: Timer,
    *,
    meta: dict[str, Any] | None = None,
    on_progress: Callable[[OpSpec, dict[str, Any] | None], None] | None = None,
) -> ProfileRun:
    """Measure every spec not yet in the table at ``path`` under this timer's protocol."""
    specs = list(specs)
    writer, pid = open_measured_table(path, LATENCY, timer, meta)
    run = ProfileRun(Path(path), pid)
    done = writer.done_keys(pid)
    pending: dict[str, OpSpec] = {}
    for spec in specs:
        if spec.key in done or spec.key in pending:
            run.skipped.append(spec.key)
            if on_progress:
                on_progress(spec, None)
        else:
            pending[spec.key] = spec

    def make(spec: OpSpec) -> tuple[dict[str, Any], Callable[[], Callable[[], object]]]:
        return {**spec_columns(spec), "source": "measured"}, lambda: op_callable(spec, timer.device)

    for spec, row in measure_in_groups(list(pending.values()), make, timer):
        row.update(protocol_id=pid,
                   measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        writer.append(row)
        (run.measured if row["status"] == "ok" else run.failed).append(spec.key)
        if on_progress:
            on_progress(spec, row)
    return run
