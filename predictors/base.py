"""The interface searches depend on: a cost model over OpSpecs.

Searches (``nas/``) only ever call ``costs(specs)``; they never read tables. Any fitted
predictor (lookup, learned, memory) satisfies this protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from latbench.opspec import OpSpec


@runtime_checkable
class CostModel(Protocol):
    """Predicts one cost per OpSpec (latency in ms, or memory in MiB: ``unit`` says which)."""

    unit: str

    def predict(self, specs: Sequence[OpSpec]) -> np.ndarray:
        """Costs as a float64 array, one per spec, in ``unit``."""
        ...

    def costs(self, specs: Sequence[OpSpec], device: str | torch.device = "cpu",
              dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Costs as a tensor on ``device`` (constants for the differentiable regularisers)."""
        ...
