"""``latbench search mixed-op --space NAME`` on any space with a ``ChoiceLayout``: the ST-NAS
decoder's search (``latbench.papers.stnas.search.search_decoder``; docs/plugins.md), loss task
+ λ Σ_slots Σ_j softmax(α)_j c_j, c_j the predicted latencies divided by their mean.
"""

from __future__ import annotations

from dataclasses import dataclass

from latbench.architecture import Architecture
from latbench.nas.errors import SearchError
from latbench.nas.synthetic import Outcome, Progress
from latbench.papers.stnas.search import search_decoder
from latbench.predictors.base import CostModel
from latbench.spaces import ChoiceLayout, get_space, list_spaces

DEFAULT_LAMBDA = 0.5  # on costs normalised to mean 1 (nas.costs.normalized)


def choice_layout(space: str, size: str) -> ChoiceLayout:
    """The ``ChoiceLayout`` of ``space`` at ``size``, shape-checked; ``SearchError`` naming the
    spaces that have one when ``space`` has another layout or none."""
    found = get_space(space)
    layout = found.layout(size) if found.build_layout is not None else None
    if not isinstance(layout, ChoiceLayout):
        with_one = [
            name
            for name in list_spaces()
            if get_space(name).build_layout is not None
            and isinstance(get_space(name).layout(), ChoiceLayout)
        ]
        none = "none loaded (a plugin's space can have one: docs/plugins.md)"
        raise SearchError(
            f"space {space!r} has no ChoiceLayout (register_layout returning "
            "latbench.spaces.ChoiceLayout); spaces with one: "
            f"{', '.join(with_one) or none}; a paper's space has its paper's search "
            "(latbench search --help)"
        )
    layout.check()
    return layout


@dataclass
class ChoicesResult:
    """Runs (λ = 0 first, then λ), the layout they chose in, and the teacher's genotype."""

    space: str
    layout: ChoiceLayout
    runs: list[Outcome]
    teacher: str

    def genotype(self, run: Outcome) -> str:
        return self.layout.genotype(run.choice)

    def architecture(self, run: Outcome) -> Architecture:
        return self.layout.architecture(self.space, run.choice)

    @property
    def note(self) -> str:
        return (
            f"{self.space}: {len(self.layout.slots)} slots; task loss = MSE to the teacher "
            f"{self.teacher} (synthetic, seeded); latencies predicted"
        )


def search(
    model: CostModel,
    space: str,
    size: str | None = None,
    lam: float = DEFAULT_LAMBDA,
    steps: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
) -> ChoicesResult:
    """The mixed-op search on ``space``'s ChoiceLayout at ``size`` (default: the space's),
    λ = 0 and ``lam``; latencies from ``model`` (ms). ``NonFiniteError`` when a run ends with
    a non-finite task loss or latency (an op producing nan/inf)."""
    layout = choice_layout(space, size or get_space(space).default_size)
    slots = [layout.candidates(i) for i in range(len(layout.slots))]
    runs = search_decoder(slots, model, [0.0, lam], steps, seed, progress, label=space)
    return ChoicesResult(space, layout, runs, layout.genotype(runs[0].extra["teacher"]))
