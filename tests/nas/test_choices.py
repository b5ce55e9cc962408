"""ChoiceLayout (genotypes, shape checks) and the mixed-op search on a space that has one."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
import torch

from latbench.errors import LatbenchError
from latbench.nas import choices
from latbench.nas.errors import SearchError
from latbench.opspec import OpSpec
from latbench.spaces import ChoiceLayout, registry

X = (1, 2, 4, 4)
SLOT = {
    "c3": OpSpec.make("conv", X, kernel=3),
    "c5": OpSpec.make("conv", X, kernel=5),
    "id": OpSpec.make("identity", X),
}


class KernelCost:
    """ms = kernel² / 10 (identity 0.1): conv5 costs 2.5 ms, conv3 0.9 ms."""

    unit = "ms"

    def predict(self, specs: Sequence[OpSpec]) -> np.ndarray:
        return np.array([dict(s.params).get("kernel", 1) ** 2 / 10 for s in specs])

    def costs(self, specs, device="cpu", dtype=torch.float32) -> torch.Tensor:
        return torch.as_tensor(self.predict(specs), dtype=dtype, device=device)


@pytest.fixture
def space(monkeypatch):
    """A registered space ``chain`` with a 3-slot ChoiceLayout, removed afterwards."""
    registry.get_space("msnas")  # load the plugins before adding a space by hand
    monkeypatch.setitem(
        registry._SPACES,
        "chain",
        registry.Space(
            "chain", "test", lambda size: layout().ops(), build_layout=lambda size: layout()
        ),
    )
    return "chain"


def layout() -> ChoiceLayout:
    return ChoiceLayout.of([SLOT, SLOT, SLOT])


def test_genotype_round_trips_and_names_the_chain():
    lay = layout()
    assert lay.genotype([0, 2, 1]) == "c3,id,c5" and lay.parse("c3,id,c5") == [0, 2, 1]
    arch = lay.architecture("chain", [0, 2, 1])
    assert [e.op for e in arch.edges] == [SLOT["c3"], SLOT["id"], SLOT["c5"]]
    assert arch.genotype == "c3,id,c5" and arch.output == "s2"
    assert len(lay.ops()) == 3
    with pytest.raises(LatbenchError, match="slot 1 has no candidate 'c7'"):
        lay.parse("c3,c7,id")
    sampled = lay.sample("chain", np.random.default_rng(0))
    assert sampled.genotype.count(",") == 2


def test_shape_breaks_name_the_slot_and_candidate():
    wide = OpSpec.make("conv", X, kernel=3, out=4)
    with pytest.raises(LatbenchError, match=r"slot 0: candidates write different shapes"):
        ChoiceLayout.of([{"c3": SLOT["c3"], "wide": wide}]).check()
    other = OpSpec.make("conv", (1, 2, 2, 2), kernel=3)
    with pytest.raises(
        LatbenchError,
        match=r"slot 1 candidate 'small' reads \(1, 2, 2, 2\); "
        r"slot 0 writes \(1, 2, 4, 4\)",
    ):
        ChoiceLayout.of([SLOT, {"small": other}]).check()
    with pytest.raises(LatbenchError, match="slot 0 of the ChoiceLayout has no candidate"):
        ChoiceLayout.of([{}])


@pytest.fixture
def one_thread():
    """One intra-op thread, as `latbench search` runs (two on a loaded 2-core box: 10x slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_the_latency_term_picks_cheaper_ops(space, one_thread):
    out = choices.search(KernelCost(), space, "small", lam=5.0, steps=8, seed=0)
    base, reg = out.runs
    assert base.lam == 0 and reg.lam == 5.0
    assert all(math.isfinite(r.latency_ms) and math.isfinite(r.task_loss) for r in out.runs)
    assert reg.latency_ms < base.latency_ms or base.latency_ms == pytest.approx(0.3)
    assert reg.latency_ms == pytest.approx(
        sum(KernelCost().predict([layout().candidates(i)[j] for i, j in enumerate(reg.choice)]))
    )
    assert "c5" not in out.genotype(reg)


def test_slots_with_different_numbers_of_candidates_are_searched(monkeypatch, one_thread):
    """A fixed slot (one candidate) between two choice slots: each mixed op weighs its own
    candidates (the costs of one slot cannot be stacked with another's)."""
    ragged = ChoiceLayout.of([SLOT, {"fixed": SLOT["c3"]}, {"c5": SLOT["c5"], "id": SLOT["id"]}])
    registry.get_space("msnas")
    monkeypatch.setitem(
        registry._SPACES,
        "ragged",
        registry.Space("ragged", "test", lambda size: ragged.ops(), build_layout=lambda s: ragged),
    )
    out = choices.search(KernelCost(), "ragged", "small", lam=5.0, steps=8, seed=0)
    reg = out.runs[1]
    assert reg.choice[1] == 0 and reg.choice[2] in (0, 1)
    assert reg.latency_ms == pytest.approx(
        sum(KernelCost().predict([ragged.candidates(i)[j] for i, j in enumerate(reg.choice)]))
    )
    assert out.genotype(reg).split(",")[1] == "fixed"


def test_a_space_without_a_choice_layout_names_those_with_one(space):
    with pytest.raises(SearchError, match=r"space 'msnas' has no ChoiceLayout.*with one: .*chain"):
        choices.search(KernelCost(), "msnas", "small")


def test_with_no_space_loaded_that_has_one_the_error_says_where_one_comes_from():
    with pytest.raises(SearchError, match=r"with one: none loaded \(a plugin's space can have"):
        choices.search(KernelCost(), "msnas", "small")
