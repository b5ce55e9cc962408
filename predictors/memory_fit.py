"""Fit a ``TrainingMemoryPredictor`` on a memory table (``latbench fit --kind memory``).

The target and workspace model follow the device the table was measured on (CPU: peak RSS
growth with the CPU workspace model; GPU: nvidia-smi's per-process memory, HyperSegNAS'
measure), and the training config is the one the table's measured rows were taken under.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd

from latbench.errors import LatbenchError
from latbench.memory import TrainConfig
from latbench.predictors.memory import TrainingMemoryPredictor, calibrated
from latbench.predictors.persist import sha256_file
from latbench.tables import read_table
from latbench.tables.unique import require_unique_keys


def table_config(table: pd.DataFrame, source: str) -> TrainConfig:
    """The TrainConfig of the table's measured ok rows (the most frequent one, if several)."""
    if "config_json" not in table or "source" not in table:
        raise LatbenchError(
            f"{source}: no config_json/source columns; expected a memory table "
            "(`latbench memory SPACE` writes one)"
        )
    rows = table[(table["status"] == "ok") & (table["source"] == "measured")]
    if rows.empty:
        raise LatbenchError(f"{source}: no measured ok rows to calibrate on")
    config = json.loads(rows["config_json"].value_counts().index[0])
    return TrainConfig(**config)


def fit_memory(
    path: str | os.PathLike[str], target: str | None = None
) -> tuple[TrainingMemoryPredictor, dict[str, Any]]:
    """The predictor fitted on the memory table at ``path``, and the ``save`` info (device,
    table sha256, fit metrics)."""
    table = read_table(path)
    require_unique_keys(table, str(path))
    fingerprint = table.attrs.get("meta", {}).get("fingerprint", {})
    cpu = fingerprint.get("kind", "cpu") == "cpu"
    model = TrainingMemoryPredictor(
        target or ("rss_growth" if cpu else "nvml"),
        table_config(table, str(path)),
        workspace="cpu" if cpu else "none",
    )
    calibrated(model, table)
    metrics = {
        "n_calibration": model.n_calibration_,
        "offset_mib": model.offset_mib_,
        "residual_spread_mib": model.residual_spread_mib_,
    }
    return model, {
        "device": fingerprint.get("slug", ""),
        "tables": {"memory": sha256_file(path)},
        "fit_metrics": metrics,
    }
