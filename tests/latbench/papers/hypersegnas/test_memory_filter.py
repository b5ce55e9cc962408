"""Memory filter with a fake memory model: band, ranking, checks, confirmation hook."""

from __future__ import annotations

import numpy as np
import pytest

from latbench.archs import INPUT, Architecture, Edge
from latbench.nas.errors import CostError
from latbench.opspec import OpSpec
from latbench.papers.hypersegnas.search import MemoryModel, confirm_top, filter_by_memory
from latbench.predictors.memory_screen import BandError


def _arch(i: int) -> Architecture:
    op = OpSpec.make("identity", (1, 2, 4, 4))
    return Architecture("fake", (Edge((INPUT,), "out", op),), "out", name=f"a{i}")


class FakeMemory:
    """MiB by architecture name (a test double, not a predictor)."""

    def __init__(self, mib: dict[str, float]):
        self.mib = mib

    unit = "MiB"

    def predict(self, archs):
        return np.array([self.mib[a.name] for a in archs])


def test_keeps_exactly_the_band_ranked_by_closeness():
    archs = [_arch(i) for i in range(6)]
    model = FakeMemory({"a0": 4700, "a1": 4767, "a2": 5000, "a3": 5367, "a4": 5400, "a5": 5100})
    assert isinstance(model, MemoryModel)
    result = filter_by_memory(archs, model, target_mib=5067, band_mib=300)
    assert [a.name for a in result.kept] == ["a5", "a2", "a1", "a3"]
    assert result.within_band(result.predicted_mib).all()


def test_custom_score_ranks_and_confirm_measures_top_n():
    archs = [_arch(i) for i in range(3)]
    model = FakeMemory({"a0": 100, "a1": 110, "a2": 120})
    result = filter_by_memory(archs, model, 110, 50, score=lambda a: int(a.name[1:]))
    assert [a.name for a in result.kept] == ["a2", "a1", "a0"]
    confirm_top(result, lambda a: 1000.0 + int(a.name[1:]), top_n=2)
    assert result.measured_mib == {0: 1002.0, 1: 1001.0}


def test_bad_predictions_and_band_are_named():
    archs = [_arch(0), _arch(1)]
    with pytest.raises(CostError, match="#1"):
        filter_by_memory(archs, FakeMemory({"a0": 1.0, "a1": float("nan")}), 1.0)
    with pytest.raises(BandError, match="band_mib=-1"):
        filter_by_memory(archs, FakeMemory({"a0": 1.0, "a1": 1.0}), 1.0, band_mib=-1)


def test_result_records_where_all_the_samples_lie_and_if_few_were_kept():
    archs = [_arch(i) for i in range(4)]
    model = FakeMemory({"a0": 20.0, "a1": 30.0, "a2": 25.0, "a3": 22.0})
    none = filter_by_memory(archs, model, target_mib=5067, band_mib=300)
    assert none.kept == [] and none.few_kept
    assert none.sampled_mib == (20.0, 23.5, 30.0)
    assert not filter_by_memory(archs, model, target_mib=25, band_mib=10).few_kept


def test_hypersegnas_samples_its_own_ops_not_dints_p3d_ops():
    """HyperSegNAS Sect. 3.1 keeps skip and 3x3x3 convolution and omits DiNTS' three P3D ops;
    the search sampled all five."""
    from latbench.papers.hypersegnas.search import sample_architectures
    from latbench.papers.hypersegnas.space import HYPERSEG_OP_NAMES

    archs = sample_architectures(20, "small", seed=0)
    assert all(a.meta["op_names"] == list(HYPERSEG_OP_NAMES) for a in archs)
    used = {c for a in archs for c in a.genotype if c not in "-|"}
    assert used == {"0", "1"}
