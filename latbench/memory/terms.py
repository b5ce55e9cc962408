"""Per-op memory terms, traced on meta tensors, and their table (``source=estimated``): what each
op's forward keeps alive for backward and its parameter bytes, which the HyperSegNAS fast screen
(``latbench.predictors.memory_screen``) sums per network (``load_op_terms`` reads the table).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from latbench.memory.steps import TrainConfig
from latbench.memory.table import MemoryJob, protocol_id, subject_columns
from latbench.memory.trace import trace_training
from latbench.opspec import OpSpec
from latbench.papers import MIB
from latbench.tablerun.driver import run_into_table
from latbench.tables import read_table
from latbench.tables.schema import MEMORY

TRACE_FINGERPRINT = {"slug": "trace", "kind": "meta"}
"""A traced table's 'device': meta tensors, no hardware."""


@functools.lru_cache(maxsize=65536)
def op_terms(spec: OpSpec, config: TrainConfig) -> tuple[float, float]:
    """(bytes the op's forward keeps alive for backward, parameter bytes) of ``spec`` in
    training, from a one-step trace of the op alone (cached per spec)."""
    trace = trace_training(spec, replace(config, steps=1))
    start = next(i for i, name in trace.marks if name.endswith("/backward"))
    live: dict[int, int] = {}
    for kind, handle, nbytes in trace.events[:start]:
        if kind:
            live[handle] = nbytes
        else:
            live.pop(handle, None)
    kept = sum(live.values()) - trace.setup_bytes
    params = sum(p.numel() * p.element_size() for p in spec.build("meta").parameters())
    return float(max(kept, 0)), float(params)


def _terms_fields(spec: OpSpec, config: TrainConfig) -> dict[str, object]:
    key = subject_columns(spec, config)["key"]
    kept, params = op_terms(OpSpec.from_key(str(key)), config)
    return {
        "status": "ok",
        "fwd_kept_mib": kept / MIB,
        "param_mib": params / MIB,
        "parts": "traced on meta tensors (one step, op alone); no device",
    }


def write_op_terms(
    specs: Iterable[OpSpec], path: str | os.PathLike[str], config: TrainConfig
) -> Path:
    """Per-op terms as rows of a memory table (``source=estimated``: traced, not measured)."""
    protocol, _ = protocol_id("meta", config, {"estimate": "op terms"})
    job = MemoryJob(
        schema=MEMORY,
        protocol=protocol,
        fingerprint=dict(TRACE_FINGERPRINT),
        measure_fn=functools.partial(_terms_fields, config=config),
        config=config,
        source="estimated",
    )
    return run_into_table(job, specs, path).path


def load_op_terms(path: str | os.PathLike[str]) -> dict[str, tuple[float, float]]:
    """``{op key: (kept bytes, parameter bytes)}`` from a table written by ``write_op_terms``."""
    df = read_table(path)
    df = df[(df["subject"] == "op") & df["fwd_kept_mib"].notna()]
    return {
        k: (kept * MIB, p * MIB)
        for k, kept, p in zip(df["key"], df["fwd_kept_mib"], df["param_mib"])
    }
