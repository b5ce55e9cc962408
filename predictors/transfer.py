"""Few-shot transfer to another device (HELP / MAPLE setting).

A network predictor fitted on device A (op table and calibration from A) is mapped onto
device B with the 10–20 whole networks measured on B: ``log y_B = a + b · log ŷ_A``
(``loglinear``, two parameters) or ``y_B = s · ŷ_A`` (``scale``, one). Rank correlations are
unchanged by such a monotone map, so the ranking B gets is A's ranking; the map fixes the
scale so that constraints such as "≤ 50 ms" mean the same on B.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from latbench.archs import Architecture
from latbench.errors import LatbenchError, NotFittedError
from predictors.batch import ArchBatch
from predictors.metrics import accuracy
from predictors.persist import (check_choice, check_numbers, check_type, from_state_of,
                                persistable, state_of)

METHODS = ("loglinear", "scale")


@persistable
class TransferPredictor:
    """``base`` (fitted on device A) mapped onto device B from a few networks measured on B."""

    unit = "ms"
    level = "network"  # predicts OpSpecs ("op") or Architectures ("network")

    def __init__(self, base: Any, method: str = "loglinear", device: str = ""):
        self.base = base
        self.method = method
        self.device = device

    def fit(self, archs: Sequence[Architecture] | ArchBatch,
            measured_ms: Sequence[float] | np.ndarray) -> "TransferPredictor":
        """Fit the map on the few networks measured on the target device."""
        if self.method not in METHODS:
            raise LatbenchError(f"method={self.method!r} is not one of {', '.join(METHODS)}")
        y = np.asarray(measured_ms, dtype=np.float64)
        need = 2 if self.method == "loglinear" else 1
        if len(y) < need or np.any(y <= 0):
            raise LatbenchError(f"transfer method {self.method!r} needs >= {need} positive "
                                f"measurements on the target device; got {len(y)}")
        base = np.log(self.base.predict(archs))
        if self.method == "loglinear":
            slope, intercept = np.polyfit(base, np.log(y), 1)
        else:
            slope, intercept = 1.0, float(np.median(np.log(y) - base))
        self.slope_, self.intercept_ = float(slope), float(intercept)
        self.n_shots_ = len(y)
        self.fit_metrics_ = accuracy(self.predict(archs), y) if len(y) > 1 else {}
        return self

    def predict(self, archs: Sequence[Architecture] | ArchBatch) -> np.ndarray:
        """Predicted latency (ms) on the target device."""
        if not hasattr(self, "slope_"):
            raise NotFittedError("TransferPredictor is not fitted; call fit(archs, measured_ms) "
                                 "with networks measured on the target device")
        return np.exp(self.intercept_ + self.slope_ * np.log(self.base.predict(archs)))

    def costs(self, archs: Sequence[Architecture] | ArchBatch,
              device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
              ) -> torch.Tensor:
        return torch.as_tensor(self.predict(archs), dtype=dtype, device=device)

    def to_state(self) -> dict[str, Any]:
        if not hasattr(self, "slope_"):
            raise NotFittedError("TransferPredictor is not fitted; nothing to save")
        return {"params": {"method": self.method, "device": self.device},
                "base": state_of(self.base), "slope": self.slope_,
                "intercept": self.intercept_, "n_shots": self.n_shots_,
                "fit_metrics": self.fit_metrics_}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "TransferPredictor":
        params = check_type("params", state["params"], dict, "an object")
        check_choice("params.method", params.get("method"), METHODS)
        obj = cls(from_state_of(state["base"]), **params)
        slope, intercept = check_numbers("slope, intercept", [state["slope"],
                                                              state["intercept"]], 2)
        obj.slope_, obj.intercept_ = float(slope), float(intercept)
        obj.n_shots_ = check_type("n_shots", state["n_shots"], int, "an integer")
        obj.fit_metrics_ = dict(check_type("fit_metrics", state["fit_metrics"], dict,
                                           "an object"))
        return obj
