"""What every deployment runner is: one inference callable, its description, and a measure.

A runner binds one model to one set of inputs on one device. ``run()`` does one inference,
``measure(config)`` times ``run`` with latbench's own adaptive loop and returns the same
``Measurement`` the op timers return, and ``info`` records what the number means (backend,
execution provider really used, precision, batch, whether host<->device transfers are inside
the timed region, and library versions).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from latbench.device import library_versions
from latbench.errors import MeasurementError
from latbench.timing import Measurement, TimingConfig

PRECISIONS: dict[str, torch.dtype] = {"fp32": torch.float32, "fp16": torch.float16}


@dataclass(frozen=True)
class RunInfo:
    """How a runner's numbers were taken; stored next to them in every report."""

    backend: str
    engine: str
    device: str
    precision: str
    batch: int
    transfers_included: bool
    timer: str
    versions: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class Runner(Protocol):
    """One model, one input, one device: run it, time it, read its outputs."""

    info: RunInfo

    def run(self) -> None:
        """One inference on the bound inputs (synchronous from the timer's point of view)."""
        ...

    def measure(self, config: TimingConfig) -> Measurement:
        """``run`` timed by latbench's adaptive loop."""
        ...

    def outputs(self) -> list[np.ndarray]:
        """The outputs of the last ``run``, on the host (to compare backends)."""
        ...

    def close(self) -> None: ...


def check_precision(precision: str, allowed: tuple[str, ...], backend: str) -> torch.dtype:
    """The torch dtype of ``precision``, or an error naming what ``backend`` supports."""
    if precision not in PRECISIONS or precision not in allowed:
        raise MeasurementError(
            f"backend {backend!r} does not run precision {precision!r}; valid: {', '.join(allowed)}"
        )
    return PRECISIONS[precision]


def batch_of(inputs: tuple[torch.Tensor, ...]) -> int:
    """The leading dimension of the first input (every model here is batch-first)."""
    return int(inputs[0].shape[0]) if inputs and inputs[0].dim() > 0 else 1


def versions(*names: str) -> dict[str, str]:
    """Installed versions of ``names`` (as in the device fingerprint), absent ones omitted."""
    return library_versions(names)
