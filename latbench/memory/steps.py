"""The training steps whose memory latbench measures and traces: one definition for both.

HyperSegNAS measured memory "by performing training for few iterations". A step is forward,
loss, backward, optimizer step and ``zero_grad(set_to_none=True)``, as a ``TrainConfig`` says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, get_args, get_type_hints

import torch

from latbench.architecture import INPUT, Architecture, Edge
from latbench.errors import LatbenchError
from latbench.opspec import OpSpec

OPTIMIZERS = ("sgd", "adam", "adamw")
"""Optimizers of the training steps whose memory is measured."""

LOSSES = ("mse", "sum")  # mse: mean of squares (a dense gradient, like a segmentation loss)
Subject = Architecture | OpSpec


def subject_to_json(subject: Subject) -> dict[str, Any]:
    """A subject in the job's plain form: ``{"op": key}`` or ``{"arch": json}``."""
    if isinstance(subject, OpSpec):
        return {"op": subject.key}
    return {"arch": subject.to_json()}


def subject_from_json(data: dict[str, Any]) -> Subject:
    return OpSpec.from_key(data["op"]) if "op" in data else Architecture.from_json(data["arch"])


@dataclass(frozen=True)
class TrainConfig:
    """How the training steps run. ``batch=None`` keeps the subject's own batch size."""

    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    steps: int = 2
    batch: int | None = None
    loss: str = "mse"
    foreach: bool = True  # PyTorch's default for CUDA parameters; fixed so CPU and GPU agree

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise LatbenchError(
                f"optimizer {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}"
            )
        if self.loss not in LOSSES:
            raise LatbenchError(f"loss {self.loss!r} is not one of {', '.join(LOSSES)}")
        if self.steps < 1 or (self.batch is not None and self.batch < 1):
            raise LatbenchError(f"steps={self.steps} and batch={self.batch} must be >= 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, where: str) -> TrainConfig:
        """The config of a ``to_dict()`` read from a file; anything else (not an object, an
        unknown or mistyped field, a value out of range) is one ``LatbenchError`` starting
        with ``where``."""
        if not isinstance(data, dict):
            raise LatbenchError(f"{where}: expected a JSON object (a TrainConfig)")
        hints = get_type_hints(cls)
        for name, value in data.items():
            if name not in hints:
                known = ", ".join(hints)
                raise LatbenchError(
                    f"{where}: unknown TrainConfig field {name!r}; expected {known}"
                )
            kinds = get_args(hints[name]) or (hints[name],)  # a float field takes a JSON 1
            kinds = (*kinds, int) if float in kinds else kinds
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
                raise LatbenchError(
                    f"{where}: TrainConfig field {name!r} is {value!r}; expected {names}"
                )
        try:
            return cls(**data)
        except LatbenchError as exc:
            raise LatbenchError(f"{where}: {exc}") from None

    def make_optimizer(self, params: Sequence[torch.nn.Parameter]) -> torch.optim.Optimizer:
        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum, foreach=self.foreach)
        cls = torch.optim.Adam if self.optimizer == "adam" else torch.optim.AdamW
        return cls(params, lr=self.lr, foreach=self.foreach)

    def loss_of(self, out: torch.Tensor) -> torch.Tensor:
        if self.loss == "sum":
            return out.float().sum()
        return out.float().square().mean()  # MSE to a zero target: a dense output gradient


def as_training_architecture(subject: Subject, batch: int | None = None) -> Architecture:
    """``subject`` as an architecture whose every op is in train mode (one-edge for an OpSpec),
    with the batch size changed to ``batch`` when given."""
    if isinstance(subject, OpSpec):
        subject = Architecture("op", (Edge((INPUT,), "out", subject),), "out", name=subject.key)
    edges = []
    for e in subject.edges:
        op, shape = e.op, e.op.input_shape if batch is None else (batch, *e.op.input_shape[1:])
        if (op.mode, op.input_shape) != ("train", shape):
            op = op.replace(mode="train", input_shape=shape)
        edges.append(replace(e, op=op))
    return replace(subject, edges=tuple(edges), meta=dict(subject.meta))


def training_inputs(arch: Architecture, device: str | torch.device) -> tuple[torch.Tensor, ...]:
    """The architecture's seeded example input on ``device``, not requiring grad (an image)."""
    return tuple(t.detach() for t in arch.example_inputs(device))


def run_training(
    module: torch.nn.Module,
    inputs: tuple[torch.Tensor, ...],
    config: TrainConfig,
    mark: Callable[[str], None] = lambda _phase: None,
    after_step: Callable[[int], None] = lambda _step: None,
) -> None:
    """``config.steps`` training steps of ``module``; ``mark`` is told where each phase starts."""
    params = [p for p in module.parameters() if p.requires_grad]
    optimizer = config.make_optimizer(params) if params else None  # parameter-free ops
    for step in range(1, config.steps + 1):
        mark(f"step{step}/forward")
        out = module(*inputs)
        loss = config.loss_of(out)
        del out
        mark(f"step{step}/backward")
        if loss.requires_grad:
            loss.backward()
        del loss
        mark(f"step{step}/optimizer")
        if optimizer is not None:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        after_step(step)
    mark("end")
