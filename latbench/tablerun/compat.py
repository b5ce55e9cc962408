"""A run resumes only a table measured on the same machine and software (``RESUME_FIELDS``,
``RESUME_LIBRARIES``: not instant readings such as clocks); timer settings: ``protocol_id``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from latbench.tablerun.ids import protocol_id

RESUME_FIELDS = (
    "kind",
    "host",
    "name",
    "machine",
    "logical_cpus",
    "torch_threads",
    "uuid",
    "compute_capability",
    "sm_count",
    "memory_mib",
    "driver",
    "cuda",
    "cudnn",
    "power_limit_w",
    "persistence_mode",
    "max_sm_clock_mhz",
)
RESUME_LIBRARIES = ("torch", "numpy", "onnxruntime", "onnxruntime-gpu", "tensorrt")


def resume_identity(fp: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a fingerprint that decide whether a table can be resumed."""
    libs: Mapping[str, Any] = fp["libraries"] if isinstance(fp.get("libraries"), Mapping) else {}
    out = {k: fp.get(k) for k in RESUME_FIELDS if k in fp}
    out.update({f"libraries.{k}": libs.get(k) for k in RESUME_LIBRARIES if k in libs})
    return out


def mismatches(table_fp: Any, run_fp: Mapping[str, Any]) -> list[str]:
    """``field: table value != run value`` for each identity field that differs (a field the
    table did not record counts as different)."""
    if not isinstance(table_fp, Mapping):
        return [f"fingerprint: table has {type(table_fp).__name__}, expected an object"]
    old, new = resume_identity(table_fp), resume_identity(run_fp)
    return [
        f"{k}: {old.get(k, '(not recorded)')!r} != {v!r}"
        for k, v in new.items()
        if old.get(k, "(not recorded)") != v
    ]


def sibling_path(path: Path, fp: Mapping[str, Any]) -> Path:
    """``name.csv`` -> ``name.<identity>.csv`` (8 hex digits of ``resume_identity(fp)``): where
    a run whose fingerprint differs from the table at ``path`` writes its own table."""
    identity = protocol_id(resume_identity(fp))[:8]
    return path.with_name(f"{path.name.removesuffix('.csv')}.{identity}.csv")
