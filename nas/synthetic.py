"""Synthetic training for CPU demos: distil a fixed teacher into a supernet.

There is no dataset in a latency benchmark, so the searches' task loss is the MSE to a frozen
teacher network on random inputs. Each search picks a teacher that its λ = 0 run should
recover, so that the λ > 0 run shows what the latency regulariser alone changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from latbench.nas.errors import check_finite

if TYPE_CHECKING:
    from latbench.opspec import OpSpec


OnStep = Callable[[int, int], None]
"""``on_step(done, total)``: called after every architecture step, for a progress display."""
Progress = Callable[[str, int, int], None]
"""``progress(label, done, total)``: what a search reports to whoever shows progress (the CLI
draws a bar); ``label`` names the run (e.g. ``decoder λ=0.5``)."""


def step_reporter(progress: Progress | None, label: str) -> OnStep | None:
    """An ``OnStep`` reporting to ``progress`` under ``label`` (None when nobody listens)."""
    return None if progress is None else (lambda done, total: progress(label, done, total))


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


def random_inputs(
    spec: OpSpec, batch: int | None = None
) -> Callable[[torch.Generator], torch.Tensor]:
    """Seeded random inputs of the shape ``spec`` reads (batch replaced when given)."""
    shape = spec.input_shape if batch is None else (batch, *spec.input_shape[1:])
    return lambda gen: torch.randn(shape, generator=gen)


@dataclass
class TrainLog:
    """Per-step task loss and regulariser values, and the regulariser's share of step time."""

    task: list[float] = field(default_factory=list)
    reg: list[float] = field(default_factory=list)


def distill(
    student: nn.Module,
    teacher: Callable[[torch.Tensor], torch.Tensor],
    inputs: Callable[[torch.Generator], torch.Tensor],
    regulariser: Callable[[torch.Tensor], torch.Tensor],
    params: Iterable[nn.Parameter],
    steps: int,
    lr: float = 1e-2,
    seed: int = 0,
    on_step: OnStep | None = None,
    where: str = "search",
) -> TrainLog:
    """``steps`` Adam steps on ``combine(mse(student(x), teacher(x)))`` where the regulariser
    receives the task loss and returns the total loss (RT-DNAS multiplies, the others add).

    Raises ``NonFiniteError`` naming ``where`` (the run) and the step when the task loss or
    the total loss is NaN or ±inf, before it is stepped on."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(list(params), lr=lr)
    log = TrainLog()
    for step in range(steps):
        x = inputs(gen)
        with torch.no_grad():
            target = teacher(x)
        task = nn.functional.mse_loss(student(x), target)
        total = regulariser(task)
        check_finite(task.detach(), f"{where}: the task loss at step {step + 1}")
        check_finite(
            total.detach(), f"{where}: the total loss (task + regulariser) at step {step + 1}"
        )
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        log.task.append(float(task.detach()))
        log.reg.append(float((total - task).detach()))
        if on_step is not None:
            on_step(step + 1, steps)
    return log
