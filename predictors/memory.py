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
from latbench.predictors.base import Predictor
from latbench.predictors.persist import check_choice, check_numbers, check_type, persistable

TARGETS = {  # target -> (measured column, modelled basis)
    "nvml": ("nvml_process_mib", "reserved"),
    "reserved": ("peak_reserved_mib", "reserved"),
    "allocated": ("peak_allocated_mib", "allocated"),
    "rss_growth": ("rss_growth_mib", "growth"),
}


NVML_CONTEXT_MISSING = (
    "NOT included: the CUDA context and lazily loaded kernels (hundreds of "
    "MiB of what nvidia-smi shows) are in the offset, 0 without "
    "calibration; calibrate on measured rows (latbench memory ... --device "
    "cuda, then --calibrate TABLE) to include them"
)
"""What an uncalibrated NVML prediction leaves out, said wherever it is printed."""


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


# (subject, config, workspace, basis, max split) -> (MiB, peak phase). A trace is a pure
# function of these and costs ~0.3-1 s; a search traces the same networks again (the screen's
# calibration sample is drawn from the candidates it then screens).
_BASIS_CACHE: dict[tuple[Any, ...], tuple[float, str]] = {}
_BASIS_CACHE_LIMIT = 4096


def _basis_mib(
    subject: Subject, config: TrainConfig, workspace: str, basis: str, max_split_mib: float | None
) -> tuple[float, str]:
    name = subject.key if isinstance(subject, OpSpec) else subject.to_json()
    key = (type(subject).__name__, name, config, workspace, basis, max_split_mib)
    if key not in _BASIS_CACHE:
        if len(_BASIS_CACHE) >= _BASIS_CACHE_LIMIT:
            _BASIS_CACHE.clear()
        _BASIS_CACHE[key] = _traced_basis_mib(subject, config, workspace, basis, max_split_mib)
    return _BASIS_CACHE[key]


def _traced_basis_mib(
    subject: Subject, config: TrainConfig, workspace: str, basis: str, max_split_mib: float | None
) -> tuple[float, str]:
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

    def __init__(
        self,
        target: str = "nvml",
        config: TrainConfig = TrainConfig(),
        workspace: str = "none",
        max_split_mib: float | None = None,
    ):
        self.target, self.config = target, config
        self.workspace, self.max_split_mib = workspace, max_split_mib

    def _check_params(self) -> None:
        if self.target not in TARGETS:
            raise LatbenchError(f"target {self.target!r} is not one of {', '.join(TARGETS)}")
        if self.workspace not in WORKSPACES:
            raise LatbenchError(
                f"workspace model {self.workspace!r} is not one of {', '.join(WORKSPACES)}"
            )

    def modelled_mib(self, subject: Subject) -> tuple[float, str]:
        """The modelled part only (trace + replay), and the phase of its peak."""
        self._check_params()
        return _basis_mib(
            subject, self.config, self.workspace, TARGETS[self.target][1], self.max_split_mib
        )

    def fit(self, table: pd.DataFrame | None) -> TrainingMemoryPredictor:
        """Calibrate the per-device offset on measured rows of a memory table (or none).

        Target ``nvml`` in a container: NVML lists host pids, so rows lack the per-process
        number; those rows are calibrated on the device-level delta (``nvml_device_delta_mib``)
        or, without it, on the allocator's reserved peak plus the CUDA context, and a warning
        says how many rows and which fallback (``calibration_source_``). The table's allocator
        settings (``PYTORCH_CUDA_ALLOC_CONF``, recorded in its protocol) must be ones the
        allocator model models (``latbench.memory.gpu.check_alloc_conf``)."""
        self._check_params()
        self._check_table_alloc_conf(table)
        column = TARGETS[self.target][0]
        rows = _usable_rows(table, column if self.target != "nvml" else None, self.config)
        measured, source, missing = _measured_values(rows, self.target, column)
        residuals = [
            float(m) - self.modelled_mib(_row_subject(r))[0]
            for (_, r), m in zip(rows.iterrows(), measured)
            if m is not None
        ]
        self.offset_mib_ = float(np.median(residuals)) if residuals else 0.0
        self.residual_spread_mib_ = float(np.ptp(residuals)) if residuals else 0.0
        self.n_calibration_ = len(residuals)
        self.n_missing_process_ = missing
        self.calibration_source_ = source
        self.n_table_rows_ = 0 if table is None else int(len(table))
        meta = table.attrs.get("meta", {}) if table is not None else {}
        self.device_ = str(meta.get("fingerprint", {}).get("slug", ""))
        context = rows["context_mib"].dropna() if "context_mib" in rows else pd.Series([])
        self.context_mib_ = float(context.median()) if len(context) else None
        return self

    def _check_table_alloc_conf(self, table: pd.DataFrame | None) -> None:
        """Refuse a table measured under allocator settings the model does not model."""
        if table is None or self.target in ("allocated", "rss_growth"):
            return
        from latbench.memory.gpu import check_alloc_conf

        conf = table.attrs.get("meta", {}).get("protocol", {}).get("alloc_conf", "")
        self.max_split_mib = check_alloc_conf(conf or "", self.max_split_mib)

    def _check_fitted(
        self,
        hint: str = "call fit(table) with a memory table, or fit(None) for the uncalibrated model",
    ) -> None:
        super()._check_fitted(hint)

    def estimate(self, subject: Subject) -> MemoryEstimate:
        """Prediction for one architecture or op, with its parts labelled."""
        self._check_fitted()
        modelled, phase = self.modelled_mib(subject)
        basis = TARGETS[self.target][1]
        parts = {
            "tensors": "modelled (meta-tensor trace of the training steps)",
            "allocator": (
                "modelled (caching-allocator replay)"
                if basis != "growth"
                else "modelled (live bytes of blocks >= 64 KiB; CPU has no caching)"
            ),
            "workspaces": (
                f"modelled ({self.workspace})" if self.workspace != "none" else "in the offset"
            ),
        }
        parts["offset"] = self._offset_text()
        if self.target == "nvml" and self.context_mib_ is not None:
            parts["context"] = f"measured {self.context_mib_:.0f} MiB, inside the offset"
        elif self.target == "nvml" and not self.n_calibration_:
            parts["context"] = NVML_CONTEXT_MISSING
        return MemoryEstimate(
            modelled + self.offset_mib_, self.target, modelled, self.offset_mib_, phase, parts
        )

    def _offset_text(self) -> str:
        source = getattr(self, "calibration_source_", "")
        missing = getattr(self, "n_missing_process_", 0)
        lacked = (
            f"; {missing} row(s) lacked per-process NVML memory (pid not visible, e.g. a container)"
            if missing
            else ""
        )
        if self.n_calibration_:
            return (
                f"calibrated: median residual of {self.n_calibration_} measurements "
                f"({source or TARGETS[self.target][0]}) on {self.device_ or 'this device'} "
                f"({self.offset_mib_:+.1f} MiB){lacked}"
            )
        if not getattr(self, "n_table_rows_", 0):
            return "not calibrated (0 MiB; no measurements given)"
        return (
            f"not calibrated (0 MiB): none of the table's {self.n_table_rows_} rows has a "
            f"usable measurement for target {self.target!r}{lacked}"
        )

    def predict_archs(self, archs: Sequence[Architecture]) -> np.ndarray:
        """MiB per architecture (the ``latbench.papers.hypersegnas.search.MemoryModel`` protocol)."""
        return np.array([self.estimate(a).value_mib for a in archs], dtype=np.float64)

    def predict(self, specs: Sequence[OpSpec]) -> np.ndarray:
        """MiB per op, each trained alone (the ``CostModel`` protocol)."""
        return np.array([self.estimate(s).value_mib for s in specs], dtype=np.float64)

    # -- JSON persistence (latbench.predictors.persist) -------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "target": self.target,
            "config": self.config.to_dict(),
            "workspace": self.workspace,
            "max_split_mib": self.max_split_mib,
            "offset_mib_": self.offset_mib_,
            "n_calibration_": self.n_calibration_,
            "residual_spread_mib_": self.residual_spread_mib_,
            "device_": self.device_,
            "context_mib_": self.context_mib_,
            "n_missing_process_": getattr(self, "n_missing_process_", 0),
            "calibration_source_": getattr(self, "calibration_source_", ""),
            "n_table_rows_": getattr(self, "n_table_rows_", 0),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> TrainingMemoryPredictor:
        check_choice("target", state["target"], TARGETS)
        check_choice("workspace", state["workspace"], WORKSPACES)
        obj = cls(
            state["target"],
            TrainConfig(**check_type("config", state["config"], dict, "an object")),
            state["workspace"],
            state["max_split_mib"],
        )
        check_numbers(
            "offset_mib_, residual_spread_mib_",
            [state["offset_mib_"], state["residual_spread_mib_"]],
        )
        check_type("n_calibration_", state["n_calibration_"], int, "an integer")
        for name in (
            "offset_mib_",
            "n_calibration_",
            "residual_spread_mib_",
            "device_",
            "context_mib_",
        ):
            setattr(obj, name, state[name])
        obj.n_missing_process_ = state.get("n_missing_process_", 0)
        obj.calibration_source_ = state.get("calibration_source_", "")
        obj.n_table_rows_ = state.get("n_table_rows_", obj.n_calibration_)
        return obj


def _usable_rows(
    table: pd.DataFrame | None, column: str | None, config: TrainConfig
) -> pd.DataFrame:
    """Measured, ok rows taken under ``config`` (with a value in ``column`` if given)."""
    if table is None:
        return pd.DataFrame()
    if column is not None and column not in table:
        raise LatbenchError(f"table has no column {column!r}; is it a latbench.memory table?")
    same = table["config_json"].map(lambda t: bool(t) and json.loads(t) == config.to_dict())
    ok = (table["status"] == "ok") & (table["source"] == "measured")
    if column is not None:
        ok &= table[column].notna()
    if (ok & ~same).any():
        warnings.warn(
            f"{int((ok & ~same).sum())} measured row(s) were taken under another "
            "TrainConfig and are not used for calibration",
            stacklevel=3,
        )
    return table[ok & same]


NVML_FALLBACKS = (
    ("nvml_process_mib", "NVML per-process"),
    ("nvml_device_delta_mib", "device-level delta"),
    ("reserved+context", "allocator reserved peak + CUDA context"),
)
"""Target ``nvml``'s measured value per row, in order of preference."""


def _nvml_value(row: pd.Series) -> tuple[float | None, str]:
    for column, label in NVML_FALLBACKS:
        if column == "reserved+context":
            parts = [row.get("peak_reserved_mib"), row.get("context_mib")]
            if all(v is not None and pd.notna(v) for v in parts):
                return float(parts[0]) + float(parts[1]), label
        elif pd.notna(row.get(column)):
            return float(row[column]), label
    return None, ""


def _measured_values(
    rows: pd.DataFrame, target: str, column: str
) -> tuple[list[float | None], str, int]:
    """Per row the measured value of ``target``, what it came from, and how many rows lacked
    per-process NVML memory (target nvml only; those use the first fallback they have)."""
    if target != "nvml" or rows.empty:
        return [float(v) for v in rows.get(column, [])], "", 0
    found = [_nvml_value(r) for _, r in rows.iterrows()]
    missing = sum(label != NVML_FALLBACKS[0][1] for _, label in found)
    used = sorted({label for _, label in found if label})
    if missing:
        n_fallback = sum(label not in ("", NVML_FALLBACKS[0][1]) for _, label in found)
        warnings.warn(
            f"{missing} of {len(found)} measured row(s) lack per-process NVML "
            "memory (NVML cannot see this pid, e.g. inside a container); "
            f"{n_fallback} calibrated on {' / '.join(u for u in used if u != NVML_FALLBACKS[0][1]) or 'nothing'}"
            f", {missing - n_fallback} unused",
            stacklevel=3,
        )
    return [v for v, _ in found], " + ".join(used), missing


def _row_subject(row: pd.Series) -> Subject:
    if row["subject"] == "arch":
        return subject_from_json({"arch": row["arch_json"]})
    return subject_from_json({"op": row["key"]})
