"""Mixed-op search on any space that registers a ``ChoiceLayout`` (a plugin's space too):
``latbench search mixed-op --space NAME`` (registered by ``latbench.builtin``, see
``latbench.nas.searches``).

Each slot of the layout becomes a DARTS-style mixed op, Σ_j softmax(α)_j op_j(x), and the loss
is task + λ · Σ_slots Σ_j softmax(α)_j c_j with c_j the candidates' predicted latencies
divided by their mean (``latbench.nas.regularizers.ExpectedLatency``; the same search as the
ST-NAS decoder's, ``latbench.papers.stnas.search.search_decoder``). The choice is the argmax per slot.

Accuracy proxy: there is no dataset, so the task loss is the MSE to a frozen teacher, a
discrete network of the same candidates drawn at random from the seed and sharing the
supernet's initial weights (``latbench.nas.synthetic``). The λ = 0 run recovers (or
approaches) the teacher; the λ > 0 run shows what the latency term alone changes. The
predicted latency of a choice is the sum of its ops' predicted latencies, in ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
        raise SearchError(
            f"space {space!r} has no ChoiceLayout (register_layout returning "
            "latbench.spaces.ChoiceLayout); spaces with one: "
            f"{', '.join(spaces_with_choices()) or '(none loaded)'}"
        )
    layout.check()
    return layout


def spaces_with_choices() -> list[str]:
    """Registered spaces whose layout (at their default size) is a ``ChoiceLayout``."""
    names = []
    for name in list_spaces():
        space = get_space(name)
        if space.build_layout is not None and isinstance(space.layout(), ChoiceLayout):
            names.append(name)
    return names


@dataclass
class ChoicesResult:
    """Runs (λ = 0 first, then λ), the layout they chose in, and the teacher's genotype."""

    space: str
    layout: ChoiceLayout
    runs: list[Outcome]
    teacher: str

    def genotype(self, run: Outcome) -> str:
        return self.layout.genotype(run.choice)

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
    λ = 0 and ``lam``; latencies from ``model`` (ms). ``SearchError`` when a run ends with a
    non-finite task loss or latency (an op producing nan/inf)."""
    size = size or get_space(space).default_size
    layout = choice_layout(space, size)
    slots = [layout.candidates(i) for i in range(len(layout.slots))]
    runs = search_decoder(slots, model, [0.0, lam], steps, seed, progress, label=space)
    for run in runs:
        if not (math.isfinite(run.latency_ms) and math.isfinite(run.task_loss)):
            raise SearchError(
                f"space {space!r}: λ={run.lam:g} ended with predicted latency "
                f"{run.latency_ms} ms and task loss {run.task_loss}; an op of "
                "the layout produces non-finite values"
            )
    return ChoicesResult(space, layout, runs, layout.genotype(runs[0].extra["teacher"]))
