"""The memory screen's fast path: each distinct op is rebuilt for training once, not per network."""

from __future__ import annotations

import numpy as np
import pytest

from latbench.archs import sample_architectures
from latbench.memory.steps import TrainConfig, as_training_architecture
from latbench.predictors import memory_screen
from latbench.predictors.memory_screen import fast_features


@pytest.mark.slow
def test_fast_features_rebuild_no_op_a_second_time(monkeypatch):
    """2000 candidates share their ops; rebuilding every op of every network in train mode
    was the fast path's cost once op terms were cached (0.78 CPU s per 200 DiNTS 96^3
    networks; 0.06 s without it)."""
    config = TrainConfig(batch=2)
    archs = sample_architectures("dints", 6, "small", seed=3)
    first = np.stack([fast_features(a, config) for a in archs])
    calls = []

    def counted(subject, batch=None):
        calls.append(subject)
        return as_training_architecture(subject, batch)

    monkeypatch.setattr(memory_screen, "as_training_architecture", counted)
    again = np.stack([fast_features(a, config) for a in archs])
    assert calls == []  # every op of these networks was seen in the first pass
    np.testing.assert_array_equal(again, first)
    fresh = sample_architectures("dints", 1, "small", seed=4)[0]
    fast_features(fresh, config)
    assert len(calls) < len(fresh.edges)  # only the ops the first six did not have
