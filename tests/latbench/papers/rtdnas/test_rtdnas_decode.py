"""GA decoding on a backbone with fewer legal paths than the paper's pool of 10."""

from __future__ import annotations

import pytest
import torch

from latbench.nas.ga import legal_paths
from latbench.papers.rtdnas.search import ga_decode


def test_small_backbone_uses_every_legal_path_as_the_pool():
    n_layers, n_scales = 3, 2
    n_legal = len(legal_paths(n_layers, n_scales))
    assert n_legal < 10
    moves = torch.full((n_layers, n_scales, 3), 1 / 3, dtype=torch.float64)
    cell_ms = torch.ones(n_scales, dtype=torch.float64)
    scaling_ms = torch.zeros(n_scales, 3, dtype=torch.float64)
    pool, result = ga_decode(moves, cell_ms, scaling_ms, n_paths=1, seed=0, n_gen=3)
    assert len(pool) == n_legal
    (gene,) = result.genes.tolist()  # one path per individual
    assert 0 <= gene < n_legal
    assert result.latency_ms == pytest.approx(n_layers * 1.0)  # n_layers cells of 1 ms each


@pytest.mark.parametrize("entry", ["search", "ga"])
def test_too_many_paths_are_refused_before_the_cell_search(monkeypatch, entry):
    """n_paths above the pool size was an error only after the whole cell search had run."""
    from latbench.nas.errors import SearchError
    from latbench.papers.rtdnas import search
    from latbench.predictors.learned import FlopsCost

    class MsFlops(FlopsCost):
        unit = "ms"

    def ran(*args, **kwargs):
        raise AssertionError("the cell search ran")

    monkeypatch.setattr(search, "search_cells", ran)
    monkeypatch.setattr(search, "NetworkLatency", ran)
    with pytest.raises(SearchError, match="n_paths=11 must be between 1 and the pool size"):
        getattr(search, entry)(MsFlops(), "small", n_paths=11)


@pytest.mark.slow
def test_the_same_seed_gives_the_same_search():
    """The candidate modules were built before seeding, so each run drew other initial weights
    from torch's per-process seed and `search rtdnas --seed S` chose other cells."""
    from latbench.papers.rtdnas import search
    from latbench.predictors.learned import FlopsCost

    class MsFlops(FlopsCost):
        unit = "ms"

    first = search.search(MsFlops(), "small", steps=1, seed=3).runs
    torch.rand(7)  # the global generator moves on between the two searches
    again = search.search(MsFlops(), "small", steps=1, seed=3).runs
    assert [(r.choice, r.latency_ms, r.task_loss) for r in first] == [
        (r.choice, r.latency_ms, r.task_loss) for r in again
    ]
