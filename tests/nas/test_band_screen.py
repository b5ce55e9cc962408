"""BandScreen: the filter takes full predictions near the band edges from the screen."""

from __future__ import annotations

import numpy as np
import pytest

from latbench.archs import sample_architectures
from latbench.papers.hypersegnas.search import BandScreen, filter_by_memory
from latbench.predictors.memory import TrainingMemoryPredictor
from latbench.predictors.memory_screen import MemoryScreen


@pytest.mark.slow
def test_band_screen_keeps_only_archs_the_full_predictor_puts_in_the_band():
    archs = sample_architectures("dints", 14, "small", seed=3)
    full = TrainingMemoryPredictor(target="allocated").fit(None)
    screen = MemoryScreen(full).fit(archs[:8])
    exact = full.predict_archs(archs)
    target, band = float(np.median(exact)), float(np.std(exact))
    model = BandScreen(screen, target, band)
    result = filter_by_memory(archs, model, target, band)
    in_band = {a.to_json() for a, m in zip(archs, exact) if abs(m - target) <= band}
    assert 0 < len(result.kept) < len(archs)
    assert {a.to_json() for a in result.kept} == in_band  # the full predictor's decision
    assert 0 < model.n_full_ < len(archs)  # full traces only near the edges, not for all
