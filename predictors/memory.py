"""Training-memory predictor: trace + allocator model + per-device constants from measurements.

``TrainingMemoryPredictor(target=...)`` predicts one number per architecture (or op):

- ``nvml``: what nvidia-smi / NVML shows for the process (HyperSegNAS's measure);
- ``reserved`` / ``allocated``: ``torch.cuda.max_memory_reserved`` / ``max_memory_allocated``;
- ``rss_growth``: the CPU check's peak RSS growth of the steps (live bytes, no caching).

The structure is modelled (meta-device trace of the steps, replayed through the caching-allocator
model or as live bytes); what the trace cannot see (CUDA context, kernels, workspaces, allocator
slack) is one per-device offset: the median residual over the measured rows given to ``fit``
(``calibrated``: a memory table's; ``fit_memory``: its file's). ``fit([], [])`` leaves it at 0
and says so: every ``MemoryEstimate`` lists which parts were measured, calibrated, modelled.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from latbench.errors import LatbenchError
from latbench.memory.allocator import replay_allocator, replay_live
from latbench.memory.cpu import MMAP_THRESHOLD_BYTES
from latbench.memory.gpu import check_alloc_conf
from latbench.memory.steps import Subject, TrainConfig, subject_from_json
from latbench.memory.table import read_memory_table
from latbench.memory.trace import trace_training
from latbench.memory.workspace import WORKSPACES
from latbench.opspec import OpSpec
from latbench.papers import MIB
from latbench.predictors.base import Predictor, check_param
from latbench.predictors.persist import (
    check_choice,
    check_range,
    check_type,
    persistable,
    sha256_file,
)
from latbench.tables.checks import MAX_MIB
from latbench.tables.unique import require_unique_keys

TARGETS = {  # target -> (measured column, modelled basis)
    "nvml": ("nvml_process_mib", "reserved"),
    "reserved": ("peak_reserved_mib", "reserved"),
    "allocated": ("peak_allocated_mib", "allocated"),
    "rss_growth": ("rss_growth_mib", "growth"),
}


NVML_CONTEXT_MISSING = (
    "NOT included: the CUDA context and lazily loaded kernels (hundreds of MiB of what "
    "nvidia-smi shows) are in the offset, 0 without calibration; calibrate on measured rows "
    "(latbench memory ... --device cuda, then --calibrate TABLE) to include them"
)


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


# (subject, config, workspace, basis, max split) -> (MiB, peak phase): a trace costs ~0.3-1 s
_BASIS_CACHE: dict[tuple[Any, ...], tuple[float, str]] = {}
_BASIS_CACHE_LIMIT = 4096


def _basis_mib(
    subject: Subject, config: TrainConfig, workspace: str, basis: str, max_split_mib: float | None
) -> tuple[float, str]:
    name = subject.key if isinstance(subject, OpSpec) else subject.to_json()
    key = (type(subject).__name__, name, config, workspace, basis, max_split_mib)
    if key in _BASIS_CACHE:
        return _BASIS_CACHE[key]
    if len(_BASIS_CACHE) >= _BASIS_CACHE_LIMIT:
        _BASIS_CACHE.clear()
    trace = trace_training(subject, config, workspace=WORKSPACES[workspace])
    if basis == "growth":
        live = replay_live(trace, min_bytes=MMAP_THRESHOLD_BYTES)
        _BASIS_CACHE[key] = (live.growth_live_bytes / MIB, live.peak_phase)
    else:
        split = None if max_split_mib is None else int(max_split_mib * MIB)
        r = replay_allocator(trace, max_split_bytes=split)
        value = r.peak_reserved_bytes if basis == "reserved" else r.peak_allocated_bytes
        _BASIS_CACHE[key] = (value / MIB, r.peak_phase)
    return _BASIS_CACHE[key]


MIBS = f"MiB within +-{MAX_MIB:g} (a median residual; spreads, sizes >= 0)"


@persistable
@dataclass(repr=False, eq=False)
class TrainingMemoryPredictor(Predictor):
    """Predicts training memory (MiB) of architectures and ops; see the module docstring."""

    unit = "MiB"
    input_level = "network"  # predict() also takes ops, each trained alone
    fitted_attr = "offset_mib_"
    state_keys = (
        *("offset_mib_", "n_calibration_", "residual_spread_mib_", "device_", "context_mib_"),
        *("n_missing_process_", "calibration_source_", "n_table_rows_"),
    )

    target: str = "nvml"
    config: TrainConfig = TrainConfig()
    workspace: str = "none"
    max_split_mib: float | None = None

    def _check_params(self) -> None:
        check_param("target", self.target, list(TARGETS))
        check_param("workspace", self.workspace, list(WORKSPACES))

    def modelled_mib(self, subject: Subject) -> tuple[float, str]:
        """The modelled part only (trace + replay), and the phase of its peak."""
        self._check_params()
        return _basis_mib(
            subject, self.config, self.workspace, TARGETS[self.target][1], self.max_split_mib
        )

    def fit(
        self,
        X: Sequence[Subject],
        y: Sequence[float] | np.ndarray,
        *,
        device: str = "",
        context_mib: float | None = None,
        n_table_rows: int | None = None,
        n_missing_process: int = 0,
        calibration_source: str = "",
    ) -> TrainingMemoryPredictor:
        """Calibrate the offset on architectures or ops ``X`` measured as ``y`` (MiB of
        ``target`` each; none: uncalibrated); the keywords are said in every estimate."""
        self._check_params()
        if len(X) != len(y):
            raise LatbenchError(f"fit needs one value per subject; got {len(X)}, {len(y)}")
        residuals = [float(m) - self.modelled_mib(x)[0] for x, m in zip(X, y)]
        self.offset_mib_ = float(np.median(residuals)) if residuals else 0.0
        self.residual_spread_mib_ = float(np.ptp(residuals)) if residuals else 0.0
        self.n_calibration_ = len(residuals)
        self.n_missing_process_ = n_missing_process
        self.calibration_source_ = calibration_source
        self.n_table_rows_ = len(X) if n_table_rows is None else n_table_rows
        self.device_ = device
        self.context_mib_ = context_mib
        return self

    def explain(self, X: Sequence[Subject]) -> list[MemoryEstimate]:
        """``predict(X)`` with each value's parts labelled (measured, calibrated, modelled)."""
        self._check_fitted("call calibrated(model, table), or fit([], []) uncalibrated")
        return [self._estimate(x) for x in X]

    def _estimate(self, subject: Subject) -> MemoryEstimate:
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
        source, missing = self.calibration_source_, self.n_missing_process_
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
        if not self.n_table_rows_:
            return "not calibrated (0 MiB; no measurements given)"
        return (
            f"not calibrated (0 MiB): none of the table's {self.n_table_rows_} rows has a "
            f"usable measurement for target {self.target!r}{lacked}"
        )

    def predict(self, X: Sequence[Subject]) -> np.ndarray:
        """MiB per architecture (or op, trained alone) of ``X``."""
        return np.array([e.value_mib for e in self.explain(X)], dtype=np.float64)

    def to_state(self) -> dict[str, Any]:
        """``Predictor.to_state`` with the parameters beside the fitted state (the format)."""
        state = super().to_state()
        return {**state.pop("params"), **state}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> TrainingMemoryPredictor:
        check_choice("target", state["target"], TARGETS)
        check_choice("workspace", state["workspace"], WORKSPACES)
        check_range("offset_mib_", [state["offset_mib_"]], -MAX_MIB, MAX_MIB, MIBS)
        check_range("residual_spread_mib_", [state["residual_spread_mib_"]], 0, MAX_MIB, MIBS)
        for name in ("max_split_mib", "context_mib_"):  # None: not set
            if state.get(name) is not None:
                check_range(name, [state[name]], 0, MAX_MIB, f"null or {MIBS}")
        n = check_type("n_calibration_", state["n_calibration_"], int, "an integer")
        config = TrainConfig.from_dict(state["config"], "field 'config'")
        obj = cls(state["target"], config, state["workspace"], state["max_split_mib"])
        return obj.restore(state, n_missing_process_=0, calibration_source_="", n_table_rows_=n)


def calibrated(model: TrainingMemoryPredictor, table: pd.DataFrame) -> TrainingMemoryPredictor:
    """``model`` fitted on a ``latbench.memory`` table's measured ok rows taken under its
    ``config``. Target ``nvml`` without per-process numbers (a container): rows calibrate on
    ``nvml_device_delta_mib`` or else reserved peak + CUDA context, with a warning. Raises
    ``LatbenchError`` for allocator settings not modelled (``memory.gpu.check_alloc_conf``)."""
    model._check_params()
    meta = table.attrs.get("meta", {})
    if model.target not in ("allocated", "rss_growth"):
        conf = meta.get("protocol", {}).get("alloc_conf", "") or ""
        model.set_params(max_split_mib=check_alloc_conf(conf, model.max_split_mib))
    column = TARGETS[model.target][0]
    rows = _usable_rows(table, column if model.target != "nvml" else None, model.config)
    measured, source, missing = _measured_values(rows, model.target, column)
    used = [(_row_subject(r), m) for (_, r), m in zip(rows.iterrows(), measured) if m is not None]
    context = rows["context_mib"].dropna() if "context_mib" in rows else pd.Series([])
    return model.fit(
        [x for x, _ in used],
        [m for _, m in used],
        device=str(meta.get("fingerprint", {}).get("slug", "")),
        context_mib=float(context.median()) if len(context) else None,
        n_table_rows=int(len(table)),
        n_missing_process=missing,
        calibration_source=source,
    )


def _usable_rows(table: pd.DataFrame, column: str | None, config: TrainConfig) -> pd.DataFrame:
    """Measured, ok rows taken under ``config`` (with a value in ``column`` if given)."""
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
    """Per row the measured ``target``, its source, how many rows lacked per-process NVML."""
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
            f"{n_fallback} calibrated on "
            f"{' / '.join(u for u in used if u != NVML_FALLBACKS[0][1]) or 'nothing'}"
            f", {missing - n_fallback} unused",
            stacklevel=3,
        )
    return [v for v, _ in found], " + ".join(used), missing


def _row_subject(row: pd.Series) -> Subject:
    if row["subject"] == "arch":
        return subject_from_json({"arch": row["arch_json"]})
    return subject_from_json({"op": row["key"]})


def fit_memory(
    path: str | os.PathLike[str], target: str | None = None
) -> tuple[TrainingMemoryPredictor, dict[str, Any]]:
    """The predictor fitted on the memory table at ``path`` under the TrainConfig of its
    measured ok rows (the most frequent one, if several), and the ``save`` info (device, table
    sha256, fit metrics). Raises ``LatbenchError`` for a table without such rows."""
    table = read_memory_table(path)
    require_unique_keys(table, str(path))
    rows = table[(table["status"] == "ok") & (table["source"] == "measured")]
    if rows.empty:
        raise LatbenchError(f"{path}: no measured ok rows to calibrate on")
    fingerprint = table.attrs.get("meta", {}).get("fingerprint", {})
    cpu = fingerprint.get("kind", "cpu") == "cpu"
    model = TrainingMemoryPredictor(
        target or ("rss_growth" if cpu else "nvml"),
        TrainConfig.from_dict(
            json.loads(rows["config_json"].value_counts().index[0]), "config_json"
        ),
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
