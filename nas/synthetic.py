"""Synthetic training for CPU demos: distil a fixed teacher into a supernet.

There is no dataset in a latency benchmark, so the searches' task loss is the MSE to a frozen
teacher network on random inputs. Each search picks a teacher that its λ = 0 run should
recover, so that the λ > 0 run shows what the latency regulariser alone changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class TrainLog:
    """Per-step task loss and regulariser values, and the regulariser's share of step time."""

    task: list[float] = field(default_factory=list)
    reg: list[float] = field(default_factory=list)


def distill(student: nn.Module, teacher: Callable[[torch.Tensor], torch.Tensor],
            inputs: Callable[[torch.Generator], torch.Tensor],
            regulariser: Callable[[torch.Tensor], torch.Tensor], params: Iterable[nn.Parameter],
            steps: int, lr: float = 1e-2, seed: int = 0) -> TrainLog:
    """``steps`` Adam steps on ``combine(mse(student(x), teacher(x)))`` where the regulariser
    receives the task loss and returns the total loss (RT-DNAS multiplies, the others add)."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(list(params), lr=lr)
    log = TrainLog()
    for _ in range(steps):
        x = inputs(gen)
        with torch.no_grad():
            target = teacher(x)
        task = nn.functional.mse_loss(student(x), target)
        total = regulariser(task)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        log.task.append(float(task.detach()))
        log.reg.append(float((total - task).detach()))
    return log
