"""Memory tables (schema ``latbench.memory``): one row per op or architecture and config.

Same machinery and provenance as latency tables (``latbench.tables``): CSV + JSON side-car with
the device fingerprint and protocol, rows fsync'ed one at a time, a re-run skipping keys done
under the same protocol. Measured and estimated numbers never share a row: ``source`` says
which, and ``parts`` says, for an estimate, which terms were measured and which modelled.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from latbench.archs.graph import Architecture
from latbench.device import fingerprint as device_fingerprint
from latbench.memory.steps import Subject, TrainConfig
from latbench.opspec import OpSpec
from latbench.profile import DEFAULT_PROFILE_DIR, spec_columns
from latbench.tables import TableWriter
from latbench.tables.schema import MEMORY

_SPEC_ONLY = ("kind", "op_params", "flops", "n_params", "bytes_read", "bytes_written")


def arch_id(arch: Architecture) -> str:
    """Stable id of an architecture: sha1 of its JSON (12 hex digits)."""
    return hashlib.sha1(arch.to_json().encode()).hexdigest()[:12]


def subject_columns(subject: Subject, config: TrainConfig) -> dict[str, Any]:
    """Key and description columns of a row for ``subject`` under ``config``."""
    common = {"optimizer": config.optimizer, "steps": config.steps, "mode": "train",
              "config_json": json.dumps(config.to_dict(), sort_keys=True)}
    if isinstance(subject, OpSpec):
        spec = subject if config.batch is None else subject.replace(
            input_shape=(config.batch, *subject.input_shape[1:]))
        row = spec_columns(spec.replace(mode="train"))
        return {**row, **common, "subject": "op", "batch": spec.input_shape[0]}
    aid = arch_id(subject)
    shape = subject.input_shape if config.batch is None else (config.batch,
                                                               *subject.input_shape[1:])
    return {**common, "key": f"arch:{aid}", "subject": "arch", "arch_id": aid,
            "space": subject.space, "arch_json": subject.to_json(), "dtype": subject.dtype,
            "input_shape": "x".join(map(str, shape)), "batch": shape[0]}


def protocol_id(device: str, config: TrainConfig, extra: Mapping[str, Any] | None = None
                ) -> tuple[dict[str, Any], str]:
    """The measuring protocol (device type, train config, extras) and its short id."""
    protocol = {"device_type": device.split(":")[0], "train": config.to_dict(),
                **(extra or {})}
    digest = hashlib.sha1(json.dumps(protocol, sort_keys=True).encode()).hexdigest()[:12]
    return protocol, digest


def default_memory_table(slug: str, name: str,
                         root: str | os.PathLike[str] = DEFAULT_PROFILE_DIR) -> Path:
    """``device_profiles/<device-slug>/memory-<name>.csv``."""
    return Path(root) / slug / f"memory-{name}.csv"


def measure_into_table(subjects: Iterable[Subject], path: str | os.PathLike[str],
                       measure: Callable[[Subject], dict[str, Any]], device: str,
                       config: TrainConfig, *, threads: int | None = None,
                       on_row: Callable[[Subject, dict[str, Any] | None], None] | None = None
                       ) -> list[dict[str, Any]]:
    """Measure each subject not yet in the table under this protocol; rows written one by one.

    ``measure(subject) -> fields`` is ``measure_cpu``/``measure_gpu`` (a fresh process each).
    """
    extra: dict[str, Any] = {"threads": threads}
    if device.startswith("cuda"):
        from latbench.memory.gpu import alloc_conf

        extra["alloc_conf"] = alloc_conf()  # the caching allocator's settings, as measured
    protocol, pid = protocol_id(device, config, extra)
    fp = device_fingerprint(device, threads=threads)
    writer = TableWriter(path, MEMORY, {"fingerprint": fp, "protocol": protocol,
                                        "protocol_id": pid})
    done, rows = writer.done_keys(pid), []
    for subject in subjects:
        row = {**subject_columns(subject, config), "source": "measured", "protocol_id": pid}
        if row["key"] in done:
            if on_row:
                on_row(subject, None)
            continue
        fields = measure(subject)
        row.update({k: v for k, v in fields.items() if k in MEMORY.columns})
        row["measured_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        writer.append(row)
        done.add(row["key"])
        rows.append(row)
        if on_row:
            on_row(subject, row)
    return rows
