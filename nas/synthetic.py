"""Synthetic training for CPU demos: there is no dataset in a latency benchmark, so a search's
task loss is the MSE to a frozen teacher network on random inputs. Each search picks a teacher
that its λ = 0 run should recover, so that the λ > 0 run shows what the latency term changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from latbench.nas.errors import check_finite

Progress = Callable[[str, int, int], None]
"""``progress(label, done, total)``: what a search reports to whoever shows progress (the CLI
draws a bar); ``label`` names the run (e.g. ``decoder λ=0.5``)."""


@dataclass
class Outcome:
    """One search run: its λ, what it chose, the predicted latency (ms) of that choice, the
    final task loss (None where nothing was trained), and search-specific details.

    Raises ``NonFiniteError`` when the latency or the task loss is NaN or ±inf."""

    lam: float
    choice: Any
    latency_ms: float
    task_loss: float | None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_finite(self.latency_ms, f"the λ={self.lam:g} run's predicted latency (ms)")
        if self.task_loss is not None:
            check_finite(self.task_loss, f"the λ={self.lam:g} run's final task loss")


def distill(
    student: nn.Module,
    teacher: Callable[[torch.Tensor], torch.Tensor],
    input_shape: Sequence[int],
    regulariser: Callable[[torch.Tensor], torch.Tensor],
    params: Iterable[nn.Parameter],
    steps: int,
    lr: float = 1e-2,
    seed: int = 0,
    progress: Progress | None = None,
    where: str = "search",
) -> float:
    """``steps`` Adam steps on ``regulariser(mse(student(x), teacher(x)))`` (the regulariser
    gets the task loss, returns the total), x ~ N(0, 1) of ``input_shape`` seeded by ``seed``;
    returns the last task loss; ``progress`` hears every step as ``where``. ``NonFiniteError``
    naming ``where`` and the step when a loss is NaN or ±inf, before it is stepped on."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(list(params), lr=lr)
    task_loss = float("nan")
    for step in range(1, steps + 1):
        x = torch.randn(tuple(input_shape), generator=gen)
        with torch.no_grad():
            target = teacher(x)
        task = nn.functional.mse_loss(student(x), target)
        total = regulariser(task)
        task_loss = check_finite(task.detach(), f"{where}: the task loss at step {step}")
        check_finite(total.detach(), f"{where}: the total loss (task + regulariser) at step {step}")
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        if progress is not None:
            progress(where, step, steps)
    return task_loss
