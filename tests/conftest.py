"""Shared fixtures: a fake nanosecond clock for the timers' adaptive loop; the ``cuda``
marker (a test that needs a CUDA GPU: skipped without one, selected by ``-m cuda``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if item.get_closest_marker("cuda") is not None:
            item.add_marker(skip)


class FakeClock:
    """A clock that only moves when a fake op runs: each call costs a seeded random time."""

    def __init__(self, median_ms: float, rel_noise: float, seed: int = 0):
        self.now = 0
        self.median_ms, self.rel_noise = median_ms, rel_noise
        self.rng = np.random.default_rng(seed)
        self.calls = 0

    def __call__(self) -> int:
        return self.now

    def op(self) -> None:
        self.calls += 1
        noise = self.rng.lognormal(0.0, self.rel_noise) if self.rel_noise else 1.0
        self.now += int(self.median_ms * 1e6 * noise)


@pytest.fixture
def fake_clock():
    return FakeClock
