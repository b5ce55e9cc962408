"""A GPU from its spec sheet: latency estimates for a GPU nobody measured (docs/transfer.md).

``gpu_specs.csv`` lists per GPU what its spec sheet states, each row with its ``source``. The
``device_model`` prices a network on that GPU as

    latency_ms = const + launch_ms · Σ launches + k_flop · Σ FLOPs / peak_fp32
                                               + k_byte · Σ bytes / bandwidth

with ``[const, launch_ms, k_flop, k_byte]`` learned per regime (batch 1, batched) from other
GPUs' measured columns (``Calibration.fit``; ``gpu_calibration.json``: the four published GPU
columns', with that fit's relative errors for the interval). Outputs say ``ESTIMATE_LABEL``.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from latbench.archs import Architecture
from latbench.errors import LatbenchError
from latbench.predictors.base import Predictor
from latbench.predictors.batch import ArchBatch, encode
from latbench.predictors.device_model import network_terms, op_terms
from latbench.predictors.persist import check_numbers, check_range, check_type, persistable
from latbench.predictors.transfer_fit import relative_nnls, tolerance_interval
from latbench.statistics import LATENCY_RANGE_MS

SPECS_CSV = Path(__file__).with_name("gpu_specs.csv")
ESTIMATE_LABEL = "estimate from spec sheet"


@dataclass(frozen=True)
class GpuSpec:
    """One row of ``gpu_specs.csv`` (units in the names; FLOP/s as TFLOP/s, GB/s)."""

    gpu: str
    aliases: tuple[str, ...]
    architecture: str
    sms: int
    boost_mhz: float
    fp32_tflops: float
    fp16_tflops: float
    memory_gbps: float
    l2_mb: float
    source: str

    def unit_terms(self) -> np.ndarray:
        """Multipliers turning ``[const, launches, FLOPs, bytes]`` into ms at this GPU's peak:
        ``[1, 1, 1e3 / peak FLOP/s, 1e3 / bandwidth B/s]``."""
        return np.array([1.0, 1.0, 1e3 / (self.fp32_tflops * 1e12), 1e3 / (self.memory_gbps * 1e9)])


@functools.lru_cache(maxsize=1)
def load_specs() -> dict[str, GpuSpec]:
    """The table by GPU name (shipped with latbench; its test checks every row)."""
    floats = {f.name: float for f in fields(GpuSpec) if f.type == "float"}
    table = pd.read_csv(
        SPECS_CSV, dtype=floats, float_precision="round_trip", keep_default_na=False
    )
    table["aliases"] = [tuple(a.strip().lower() for a in t.split(";")) for t in table["aliases"]]
    return {row["gpu"]: GpuSpec(**row) for row in table.to_dict("records")}


def find_gpu(name: str) -> GpuSpec:
    """The spec of ``name`` (its name or an alias, any case); else an error listing them. An
    alias of several variants (``a100``: 40 and 80 GB; ``h100``: SXM and PCIe, whose peaks
    differ by a third) is refused: the estimate would be another card's."""
    want = name.strip().lower()
    found = [s for s in load_specs().values() if want == s.gpu.lower() or want in s.aliases]
    if len(found) == 1:
        return found[0]
    if found:
        raise LatbenchError(
            f"GPU {name!r} names {len(found)} cards of predictors/gpu_specs.csv: "
            f"{', '.join(s.gpu for s in found)}; give one"
        )
    raise LatbenchError(
        f"no spec sheet for GPU {name!r}; known: "
        f"{', '.join(load_specs())} (predictors/gpu_specs.csv)"
    )


def regime(batch: int) -> str:
    """``"batch1"`` (launch-bound) or ``"batched"`` (batch >= 2)."""
    return "batch1" if batch <= 1 else "batched"


@dataclass(frozen=True)
class Calibration:
    """Spec-independent weights ``[const_ms, launch_ms, k_flop, k_byte]`` of one regime, the
    GPUs they were fitted on, and the relative errors of that fit (for the interval)."""

    weights: tuple[float, float, float, float]
    gpus: tuple[str, ...]
    residuals: tuple[float, ...]

    @classmethod
    def fit(cls, columns: Sequence[tuple[GpuSpec, np.ndarray, np.ndarray]]) -> Calibration:
        """From measured columns ``(spec, network_terms T (n, 4), ms (n,))`` of other GPUs:
        NNLS on relative error of ``y ≈ (T · unit_terms) @ w`` pooled over the columns.
        ``residuals`` (200 drawn, seeded): each GPU's relative errors under the weights fitted
        on the others' columns (in-sample with one GPU), what an unseen GPU meets."""
        X = np.vstack([T * spec.unit_terms() for spec, T, _ in columns])
        y = np.concatenate([y for _, _, y in columns])
        gpu = np.concatenate([[spec.gpu] * len(y) for spec, _, y in columns])
        w = relative_nnls(X, y)
        res = (X @ w) / y - 1.0
        names = set(gpu)
        for name in names if len(names) > 1 else ():
            seen = gpu != name
            res[~seen] = (X[~seen] @ relative_nnls(X[seen], y[seen])) / y[~seen] - 1.0
        pick = np.random.default_rng(0).choice(len(res), size=min(200, len(res)), replace=False)
        return cls(
            tuple(float(v) for v in w),
            tuple(s.gpu for s, _, _ in columns),
            tuple(float(r) for r in res[np.sort(pick)]),
        )


CALIBRATION_JSON = Path(__file__).with_name("gpu_calibration.json")


def calibration(batch: int) -> Calibration:
    """The stored calibration of ``batch``'s regime (``gpu_calibration.json``: fitted on the
    four published GPU columns by ``bench/transfer_spec.py --calibrate``)."""
    return _calibrations()[regime(batch)]


@functools.cache
def _calibrations() -> dict[str, Calibration]:
    if not CALIBRATION_JSON.is_file():
        raise LatbenchError(
            f"{CALIBRATION_JSON} is missing; run `python bench/transfer_spec.py --calibrate`"
        )
    regimes = json.loads(CALIBRATION_JSON.read_text())["regimes"]
    return {
        name: Calibration(tuple(c["weights"]), tuple(c["gpus"]), tuple(c["residuals"]))
        for name, c in regimes.items()
    }


WEIGHTS = "ms per network, launch, FLOP and byte: >= 0 (a spec sheet's rates are positive)"


@persistable
@dataclass(repr=False, eq=False)
class SpecSheetPredictor(Predictor):
    """Latency of networks on a GPU from its spec sheet alone (``ESTIMATE_LABEL``)."""

    unit = "ms"
    input_level = "network"
    fitted_attr = "weights_"
    state_keys = ("weights", "residuals", "calibrated_on")
    estimate_label = ESTIMATE_LABEL

    gpu: str = "V100"
    batch: int = 1
    coverage: float = 0.9

    def fit(
        self, X: Any = None, y: Any = None, *, cal: Calibration | None = None
    ) -> SpecSheetPredictor:
        """No measurement is used (``X``, ``y`` are ignored): weights from the spec sheet and
        ``cal`` (default: the stored calibration of ``batch``'s regime)."""
        spec = find_gpu(self.gpu)
        cal = cal or calibration(self.batch)
        self.spec_ = spec
        self.weights_ = np.asarray(cal.weights) * spec.unit_terms()  # ms per term unit
        self.residuals_ = np.asarray(cal.residuals, dtype=np.float64)
        self.calibrated_on_ = list(cal.gpus)
        self.n_shots_ = 0
        return self

    def op_costs(self, ops: Sequence[Any]) -> np.ndarray:
        """Each op's estimated cost (ms): launches, FLOPs and bytes at the spec's rates."""
        self._check_fitted("call fit() (no measurements needed)")
        return op_terms(list(ops)) @ self.weights_[1:]

    def predict(self, X: Sequence[Architecture] | ArchBatch) -> np.ndarray:
        """Estimated latency (ms) of each network on ``gpu``. Ops of another dtype than
        float32 are priced at the FP32 peak (the calibration's columns are fp32), warning."""

        self._check_fitted("call fit() (no measurements needed)")
        batch = X if isinstance(X, ArchBatch) else encode(X)
        other = sorted({op.dtype for op in batch.ops} - {"float32"})
        if other:
            warnings.warn(
                f"spec-sheet estimate for {', '.join(other)} ops at {self.spec_.gpu}'s FP32 "
                "rates: the calibration's columns are fp32 (predictors/gpu_calibration.json)",
                stacklevel=2,
            )
        return network_terms(batch.counts(), op_terms(batch.ops)) @ self.weights_

    def predict_interval(
        self, X: Sequence[Architecture] | ArchBatch, coverage: float | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(estimate, low, high) ms: the band the calibration's own relative errors give
        (a tolerance interval on them, ``transfer_fit.tolerance_factor``)."""
        return tolerance_interval(self.predict(X), self.residuals_, coverage or self.coverage)

    def to_state(self) -> dict[str, Any]:
        """``Predictor.to_state`` with the label and the spec sheet's source."""
        return {**super().to_state(), "label": ESTIMATE_LABEL, "spec_source": self.spec_.source}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> SpecSheetPredictor:
        p = check_type("params", state["params"], dict, "an object")
        check_range("weights", state["weights"], 0, LATENCY_RANGE_MS[1], WEIGHTS, 4)
        check_numbers("residuals", state["residuals"])
        obj = cls(str(p["gpu"]), int(p["batch"]), float(p["coverage"]))
        obj.spec_, obj.n_shots_ = find_gpu(obj.gpu), 0
        return obj.restore(state, ("weights", "residuals"))
