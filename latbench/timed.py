"""What gets timed (forward without autograd, or forward + backward), and how a failure to
time it becomes a row's ``status`` (``oom`` or ``error``) and ``error``."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Sequence
from typing import Any

import torch

from latbench.archs.nasbench201 import from_genotype
from latbench.opspec import OpSpec
from latbench.timing import OnTurn, Timer, renumbered_turns
from latbench.timing.adaptive import DriftReference
from latbench.timing.measurement import Measurement

OOM_MARKERS = (
    "out of memory",
    "can't allocate memory",
    "defaultcpuallocator",
    "cannot allocate memory",
)
"""Lower-case fragments of out-of-memory messages (CUDA, the CPU allocator, ``ENOMEM``)."""


def is_oom(exc: BaseException) -> bool:
    """Whether ``exc`` is an out-of-memory error, on any device."""
    if isinstance(exc, (MemoryError, torch.cuda.OutOfMemoryError)):
        return True
    text = str(exc).lower()
    return any(m in text for m in OOM_MARKERS)


def failure_fields(exc: BaseException) -> dict[str, Any]:
    """``status`` (oom | error) and a one-line ``error`` for a row that failed."""
    status = "oom" if is_oom(exc) else "error"
    return {"status": status, "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:500]}


def op_callable(spec: OpSpec, device: str) -> Callable[[], object]:
    """``module_callable`` of the op built on ``device``, in the spec's mode."""
    return module_callable(spec.build(device), spec.example_inputs(device), spec.mode)


def module_callable(
    module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], mode: str
) -> Callable[[], object]:
    """Forward without autograd (``infer``) or forward + backward (``train``) of ``module``,
    gradients set to None before each call and a dense gradient of ones flowing in
    (``sum().backward()``'s stride-0 gradient made memory-bound ops 36-71 % slower on the CPU)."""
    if mode == "infer":

        def forward() -> object:
            with torch.inference_mode():
                return module(*inputs)

        return forward

    leaves = [t for t in (*inputs, *module.parameters()) if t.requires_grad]
    grad_out: list[torch.Tensor] = []

    def train_step() -> object:
        for t in leaves:  # zero_grad(set_to_none=True)
            t.grad = None
        out = module(*inputs)
        first = out[0] if isinstance(out, (tuple, list)) else out
        if not grad_out:
            grad_out.append(torch.ones_like(first))
        first.backward(grad_out[0])
        return out

    return train_step


def time_guarded_many(
    makers: Sequence[Callable[[], Callable[[], object]]],
    timer: Timer,
    on_round: Callable[[int, int], None] | None = None,
    *,
    on_turn: OnTurn | None = None,
) -> list[tuple[dict[str, Any], Measurement | None]]:
    """Build (each of ``makers``) and time the callables together, interleaved when the timer's
    ``rounds > 1`` (``on_round(done, rounds)`` after each round): per maker, ``status``, ``error``
    and (when ok) the latency columns, with the Measurement. ``on_turn(i)`` runs before maker
    ``i`` builds and before each of its turns (``i = len(makers)``: the drift reference)."""
    out: list[tuple[dict[str, Any], Measurement | None] | None] = [None] * len(makers)
    built: list[int] = []  # indices of the makers that built
    fns: list[Callable[[], object]] = []
    results: list[Measurement | Exception] = []  # an exception's traceback holds its callable
    # freezing what exists makes the collection below scan only what the batch made
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        for i, make in enumerate(makers):
            if on_turn is not None:
                on_turn(i)
            try:
                fns.append(make())
            except Exception as exc:  # noqa: BLE001 - one item's failure is recorded, the run goes on
                out[i] = (failure_fields(exc), None)
            else:
                built.append(i)
        results.extend(
            timer.measure_many(fns, on_round, on_turn=renumbered_turns(on_turn, built, len(makers)))
        )
        for i, fields in zip(built, [_result_fields(r) for r in results], strict=True):
            out[i] = fields
    finally:
        fns.clear()  # what was built is garbage now: freed before the next batch is built
        results.clear()
        try:
            gc.collect()
        finally:  # a Ctrl-C during the collection must not leave the process frozen
            if freeze:
                gc.unfreeze()
        if torch.device(timer.device).type == "cuda":
            torch.cuda.empty_cache()
    return out  # type: ignore[return-value]


def _result_fields(result: Measurement | Exception) -> tuple[dict[str, Any], Measurement | None]:
    if isinstance(result, Exception):
        return failure_fields(result), None
    return {"status": "ok", "error": "", **result.stats()}, result


REFERENCE_GENOTYPE = (
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+"
    "|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)
REFERENCE_ID = f"nasbench201-small{REFERENCE_GENOTYPE}"
"""The drift reference as a protocol records it: a fixed NAS-Bench-201 network at size ``small``
(~20 ops; docs/measurement-protocol.md, "Drift reference")."""


@functools.cache
def reference_callable() -> Callable[[], object]:
    """The drift reference (``REFERENCE_ID``) at batch 1, inference, on the CPU; built once."""
    arch = from_genotype(REFERENCE_GENOTYPE, size="small")
    with torch.random.fork_rng():  # the same weights every time; the caller's RNG untouched
        torch.manual_seed(0)
        module = arch.build("cpu").eval()
    return module_callable(module, arch.example_inputs("cpu"), "infer")


DRIFT_REFERENCE = DriftReference(REFERENCE_ID, reference_callable)
"""The CPU timers' drift reference (``TimingConfig.reference``)."""
