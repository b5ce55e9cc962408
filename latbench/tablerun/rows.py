"""Row columns shared by table kinds: an OpSpec's descriptive columns, the write time."""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from typing import Any

from latbench.opspec import OpSpec


def utc_now() -> str:
    """The ``measured_at`` value: UTC, ISO 8601, seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def spec_columns(spec: OpSpec, features: bool = True) -> dict[str, Any]:
    """The OpSpec and (unless ``features=False``: nothing is built) feature columns of a row."""
    row: dict[str, Any] = {
        "key": spec.key,
        "kind": spec.kind,
        "op_params": spec.params_json,
        "input_shape": "x".join(map(str, spec.input_shape)),
        "dtype": spec.dtype,
        "mode": spec.mode,
    }
    if not features:
        return row
    with contextlib.suppress(Exception):  # optional: a failing meta run leaves them empty
        f = spec.features()
        row.update(
            flops=f["flops"],
            n_params=f["params"],
            bytes_read=f["bytes_read"],
            bytes_written=f["bytes_written"],
        )
    return row
