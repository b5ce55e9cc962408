"""Training-memory predictor: trace + allocator model + per-device constants from measurements.

``TrainingMemoryPredictor(target=...)`` predicts one number per architecture (or op):

- ``nvml``: what nvidia-smi / NVML shows for the process (HyperSegNAS's measure);
- ``reserved`` / ``allocated``: ``torch.cuda.max_memory_reserved`` / ``max_memory_allocated``;
- ``rss_growth``: the CPU check's peak RSS growth of the steps (live bytes, no caching).

The structure is modelled (fake-tensor trace of the steps, replayed through the caching-allocator
model or as live bytes); what the trace cannot see (CUDA context, lazily loaded kernels,
cuDNN/cuBLAS workspaces, allocator slack) is one per-device offset, the median residual over
measured rows given to ``fit``. ``fit(None)`` leaves the offset at 0 and says so: every
``MemoryEstimate`` lists which parts were measured, calibrated and modelled.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from latbench.archs.graph import Architecture
from latbench.errors import LatbenchError
from latbench.memory import TrainConfig, replay_allocator, replay_live, trace_training
from latbench.memory.child import subject_from_json
from latbench.memory.cpu import MMAP_THRESHOLD_BYTES
from latbench.memory.steps import Subject
from latbench.memory.workspace import WORKSPACES
from latbench.opspec import OpSpec
from latbench.papers import MIB
from predictors.base import Predictor
from predictors.persist import persistable

TARGETS = {  # target -> (measured column, modelled basis)
    "nvml": ("nvml_process_mib", "reserved"),
    "reserved": ("peak_reserved_mib", "reserved"),
    "allocated": ("peak_allocated_mib", "allocated"),
    "rss_growth": ("rss_growth_mib", "growth"),
}


@dataclass(frozen=True)
class MemoryEstimate:
    """A predicted training memory in MiB and where each part of it came from."""

    value_mib: float
    target: str
    modelled_mib: float
    offset_mib: float
    peak_phase: str
    parts: Mapping[str, str] = field(default_factory=dict)

    def parts_text(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.parts.items())


def _basis_mib(subject: Subject, config: TrainConfig, workspace: str, basis: str,
               max_split_mib: float | None) -> tuple[float, str]:
    trace = trace_training(subject, config, workspace=WORKSPACES[workspace])
    if basis == "growth":
        r = replay_live(trace, min_bytes=MMAP_THRESHOLD_BYTES)
        return r.growth_live_bytes / MIB, r.peak_phase
    split = None if max_split_mib is None else int(max_split_mib * MIB)
    r = replay_allocator(trace, max_split_bytes=split)
    value = r.peak_reserved_bytes if basis == "reserved" else r.peak_allocated_bytes
    return value / MIB, r.peak_phase


@persistable
class TrainingMemoryPredictor(Predictor):
    """Predicts training memory (MiB) of architectures and ops; see the module docstring."""

    unit = "MiB"
    input_level = "op"  # predict(); predict_archs() takes architectures
    fitted_attr = "offset_mib_"

    def __init__(self, target: str = "nvml", config: TrainConfig = TrainConfig(),
                 workspace: str = "none", max_split_mib: float | None = None):
        self.target, self.config = target, config
        self.workspace, self.max_split_mib = workspace, max_split_mib

    def _check_params(self) -> None:
        if self.target not in TARGETS:
            raise LatbenchError(f"target {self.target!r} is not one of {', '.join(TARGETS)}")
        if self.workspace not in WORKSPACES:
            raise LatbenchError(f"workspace model {self.workspace!r} is not one of "
                                f"{', '.join(WORKSPACES)}")

    def modelled_mib(self, subject: Subject) -> tuple[float, str]:
        """The modelled part only (trace + replay), and the phase of its peak."""
        self._check_params()
        return _basis_mib(subject, self.config, self.workspace, TARGETS[self.target][1],
                          self.max_split_mib)

    def fit(self, table: pd.DataFrame | None) -> "TrainingMemoryPredictor":
        """Calibrate the per-device offset on measured rows of a memory table (or none)."""
        self._check_params()
        column = TARGETS[self.target][0]
        rows = _usable_rows(table, column, self.config)
        residuals = [float(r[column]) - self.modelled_mib(_row_subject(r))[0]
                     for _, r in rows.iterrows()]
        self.offset_mib_ = float(np.median(residuals)) if residuals else 0.0
        self.residual_spread_mib_ = (float(np.ptp(residuals)) if residuals else 0.0)
        self.n_calibration_ = len(residuals)
        meta = table.attrs.get("meta", {}) if table is not None else {}
        self.device_ = str(meta.get("fingerprint", {}).get("slug", ""))
        context = rows["context_mib"].dropna() if "context_mib" in rows else pd.Series([])
        self.context_mib_ = float(context.median()) if len(context) else None
        return self

    def _check_fitted(self, hint: str = "call fit(table) with a memory table, or fit(None) "
                      "for the uncalibrated model") -> None:
        super()._check_fitted(hint)

    def estimate(self, subject: Subject) -> MemoryEstimate:
        """Prediction for one architecture or op, with its parts labelled."""
        self._check_fitted()
        modelled, phase = self.modelled_mib(subject)
        basis = TARGETS[self.target][1]
        parts = {"tensors": "modelled (meta-tensor trace of the training steps)",
                 "allocator": ("modelled (caching-allocator replay)" if basis != "growth" else
                               "modelled (live bytes of blocks >= 64 KiB; CPU has no caching)"),
                 "workspaces": (f"modelled ({self.workspace})" if self.workspace != "none"
                                else "in the offset")}
        if self.n_calibration_:
            parts["offset"] = (f"calibrated: median residual of {self.n_calibration_} "
                               f"measurements on {self.device_ or 'this device'} "
                               f"({self.offset_mib_:+.1f} MiB)")
        else:
            parts["offset"] = "not calibrated (0 MiB; no measurements given)"
        if self.target == "nvml" and self.context_mib_ is not None:
            parts["context"] = f"measured {self.context_mib_:.0f} MiB, inside the offset"
        return MemoryEstimate(modelled + self.offset_mib_, self.target, modelled,
                              self.offset_mib_, phase, parts)

    def predict_archs(self, archs: Sequence[Architecture]) -> np.ndarray:
        """MiB per architecture (the ``nas.hypersegnas.MemoryModel`` protocol)."""
        return np.array([self.estimate(a).value_mib for a in archs], dtype=np.float64)

    def predict(self, specs: Sequence[OpSpec]) -> np.ndarray:
        """MiB per op, each trained alone (the ``CostModel`` protocol)."""
        return np.array([self.estimate(s).value_mib for s in specs], dtype=np.float64)

    # -- JSON persistence (predictors.persist) -------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        self._check_fitted()
        return {"target": self.target, "config": self.config.to_dict(),
                "workspace": self.workspace, "max_split_mib": self.max_split_mib,
                "offset_mib_": self.offset_mib_, "n_calibration_": self.n_calibration_,
                "residual_spread_mib_": self.residual_spread_mib_, "device_": self.device_,
                "context_mib_": self.context_mib_}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "TrainingMemoryPredictor":
        obj = cls(state["target"], TrainConfig(**state["config"]), state["workspace"],
                  state["max_split_mib"])
        for name in ("offset_mib_", "n_calibration_", "residual_spread_mib_", "device_",
                     "context_mib_"):
            setattr(obj, name, state[name])
        return obj


def _usable_rows(table: pd.DataFrame | None, column: str, config: TrainConfig
                 ) -> pd.DataFrame:
    """Measured, ok rows with a value in ``column``, taken under ``config``."""
    if table is None:
        return pd.DataFrame()
    if column not in table:
        raise LatbenchError(f"table has no column {column!r}; is it a latbench.memory table?")
    same = table["config_json"].map(lambda t: bool(t) and json.loads(t) == config.to_dict())
    ok = (table["status"] == "ok") & (table["source"] == "measured") & table[column].notna()
    if (ok & ~same).any():
        warnings.warn(f"{int((ok & ~same).sum())} measured row(s) were taken under another "
                      "TrainConfig and are not used for calibration", stacklevel=3)
    return table[ok & same]


def _row_subject(row: pd.Series) -> Subject:
    if row["subject"] == "arch":
        return subject_from_json({"arch": row["arch_json"]})
    return subject_from_json({"op": row["key"]})
