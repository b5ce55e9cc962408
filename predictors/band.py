"""HyperSegNAS' band decision, in one place: is a training memory within ±band of a target?

The filter (``latbench.papers.hypersegnas.search``) keeps the architectures the band contains; the fast screen
(``latbench.predictors.memory_screen``) asks which cheap estimates lie too close to an edge to decide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latbench.errors import LatbenchError
from latbench.papers import HYPERSEGNAS_BAND_MIB


class BandError(LatbenchError, ValueError):
    """A band that cannot hold anything (non-positive target or width)."""


@dataclass(frozen=True)
class MemoryBand:
    """|memory − ``target_mib``| ≤ ``band_mib`` (HyperSegNAS: 300 MB of a DiNTS network's)."""

    target_mib: float
    band_mib: float = HYPERSEGNAS_BAND_MIB

    def __post_init__(self) -> None:
        if not (self.band_mib > 0 and self.target_mib > 0):
            raise BandError(
                f"target_mib={self.target_mib:g} and band_mib={self.band_mib:g} must be positive"
            )

    def contains(self, values_mib: np.ndarray) -> np.ndarray:
        """Boolean per value: inside the band (edges included)."""
        return np.abs(np.asarray(values_mib, dtype=np.float64) - self.target_mib) <= self.band_mib

    def near_edge(self, values_mib: np.ndarray, margin_mib: float) -> np.ndarray:
        """Boolean per value: within ``margin_mib`` of either edge, where an estimate with that
        error could fall on the other side."""
        distance = np.abs(np.asarray(values_mib, dtype=np.float64) - self.target_mib)
        return np.abs(distance - self.band_mib) <= margin_mib
