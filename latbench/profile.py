"""Profiling: measure a list of OpSpecs on one device into a crash-safe latency table.

Each op is built, timed and written as one fsync'ed row before the next starts, so a run that
is killed, runs out of memory or meets a bad op loses nothing already measured; a re-run
measures only the keys missing under the same protocol.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from latbench.device import fingerprint as device_fingerprint
from latbench.opspec import OpSpec
from latbench.tables import LATENCY, TableSchema, TableWriter
from latbench.timing import Timer
from latbench.timing.measurement import Measurement

DEFAULT_PROFILE_DIR = Path("device_profiles")


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


def time_guarded(make_fn: Callable[[], Callable[[], object]], timer: Timer
                 ) -> tuple[dict[str, Any], Measurement | None]:
    """Build (``make_fn``) and time a callable; a failure becomes status/error fields.

    Returns ``status``, ``error`` and, when ok, the latency statistics columns. Shared by the
    per-op profiler and the whole-network profiler so both record errors and OOMs alike.
    """
    try:
        result = timer.measure(make_fn())
    except Exception as exc:  # noqa: BLE001 - any failure of one item is recorded, the run goes on
        status = "oom" if _is_oom(exc) else "error"
        message = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        return {"status": status, "error": message}, None
    finally:
        gc.collect()
        if torch.device(timer.device).type == "cuda":
            torch.cuda.empty_cache()
    return {"status": "ok", "error": "", **result.stats()}, result


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
    for spec in specs:
        if spec.key in done:
            run.skipped.append(spec.key)
            if on_progress:
                on_progress(spec, None)
            continue
        row, _ = measure_op(spec, timer)
        row.update(protocol_id=pid,
                   measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        writer.append(row)
        done.add(spec.key)
        (run.measured if row["status"] == "ok" else run.failed).append(spec.key)
        if on_progress:
            on_progress(spec, row)
    return run
