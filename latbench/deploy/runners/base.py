"""What every deployment runner is: ``run()`` does one inference, ``measure(config)`` times it
with latbench's adaptive loop (the ``Measurement`` the op timers return), and ``info`` says what
the number means (backend, execution provider really used, precision, batch, whether
host<->device transfers are timed, library versions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from latbench.errors import MeasurementError
from latbench.timing import Measurement, TimingConfig

DEFAULT_CACHE_DIR = Path(".latbench-cache")
"""Where the ONNX Runtime TensorRT provider and the TensorRT runner keep built engines."""

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


class Runner(Protocol):
    """One model, one input, one device: ``run`` it once (synchronous from the timer's point
    of view), ``measure`` it with the adaptive loop, read the last run's ``outputs`` on the
    host (to compare backends), ``close`` it."""

    info: RunInfo

    def run(self) -> None: ...

    def measure(self, config: TimingConfig) -> Measurement: ...

    def outputs(self) -> list[np.ndarray]: ...

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
