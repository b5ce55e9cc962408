"""Trace the allocations and frees of training steps without running them (no GPU, no compute).

The network is built on the ``meta`` device and ``latbench.memory.steps``' training steps run on
it. A ``TorchDispatchMode`` records a storage's first appearance as an allocation of
``storage.nbytes()`` and, through a weak reference, its free. Kernel workspaces and the CUDA
context are invisible here: per-device terms calibrated from measurements
(``latbench.predictors.memory``).
"""

from __future__ import annotations

import bisect
import weakref
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.weak import WeakIdKeyDictionary

from latbench.architecture import Architecture, ArchitectureModule
from latbench.errors import LatbenchError
from latbench.memory.steps import (
    Subject,
    TrainConfig,
    as_training_architecture,
    run_training,
    training_inputs,
)
from latbench.memory.workspace import WorkspaceFn, no_workspace
from latbench.ops.registry import get_op_kind
from latbench.opspec import strided_extent
from latbench.timed import failure_fields

ENGINES = ("meta", "real")  # real: actual CPU compute, for checking meta
ALLOC, FREE = 1, 0


@dataclass
class MemoryTrace:
    """Allocations and frees in program order: ``events[i] = (ALLOC|FREE, handle, nbytes)``.

    The first ``n_setup`` events are the tensors that exist before the steps start (parameters,
    inputs); ``marks`` holds ``(event index, phase)`` where each phase begins.
    """

    events: list[tuple[int, int, int]] = field(default_factory=list)
    marks: list[tuple[int, str]] = field(default_factory=list)
    n_setup: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def setup_bytes(self) -> int:
        return sum(n for kind, _h, n in self.events[: self.n_setup] if kind == ALLOC)

    def phase_at(self, index: int) -> str:
        """The phase the event at ``index`` belongs to ("setup" before the first mark)."""
        i = bisect.bisect_right([start for start, _ in self.marks], index)
        return self.marks[i - 1][1] if i else "setup"


class _Recorder(TorchDispatchMode):
    """Records the storage of every op output the first time it is seen, and its death."""

    def __init__(self, device_type: str, workspace: WorkspaceFn = no_workspace, cache: bool = True):
        super().__init__()
        self.workspace, self.cache = workspace, cache
        self.trace = MemoryTrace()
        self.device_type = device_type
        self._seen: WeakIdKeyDictionary = WeakIdKeyDictionary()
        self._next = 0
        self.closed = False

    def track(self, t: torch.Tensor) -> None:
        if t.device.type != self.device_type:
            return  # e.g. the optimizers' CPU step counters: not device memory
        st = t.untyped_storage()
        if st in self._seen:
            return
        handle, events = self._next, self.trace.events
        self._next += 1
        events.append((ALLOC, handle, int(st.nbytes())))

        def on_free(_ref: object, handle: int = handle) -> None:
            if not self.closed:
                events.append((FREE, handle, 0))

        self._seen[st] = weakref.ref(st, on_free)

    def mark(self, phase: str) -> None:
        self.trace.marks.append((len(self.trace.events), phase))

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        kwargs = kwargs or {}
        if func is torch.ops.aten._local_scalar_dense.default and self.cache:
            return 1.0  # .item() of a step counter: a value never changes memory
        key = _cache_key(func, args, kwargs) if self.cache else None
        shapes = _OUTPUT_CACHE.get(key) if key is not None else None
        if shapes is not None:
            out = _fresh_outputs(shapes, self.device_type)
        else:
            out = func(*args, **kwargs)
            if key is not None:
                _remember(key, args, kwargs, out)
        for t in _leaves(out):
            if isinstance(t, torch.Tensor):
                self.track(t)
        extra = self.workspace(func, args, out)
        if extra:  # a kernel-internal buffer: allocated after the outputs, freed on return
            handle, self._next = self._next, self._next + 1
            self.trace.events += [(ALLOC, handle, extra), (FREE, handle, 0)]
        return out


# Output metadata per (op, input metadata): a repeated call returns fresh empty tensors instead
# of rerunning slow meta decompositions (instance norm's backward: ~10 ms). Only pure ops: not
# mutating, no output sharing an input's storage.
_OUTPUT_CACHE: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_CACHE_LIMIT = 100_000


def _leaves(obj: Any) -> list[Any]:
    """Leaves of nested tuples, lists and dicts (aten arguments), faster than pytree."""
    if isinstance(obj, (tuple, list)):
        return [leaf for item in obj for leaf in _leaves(item)]
    if isinstance(obj, dict):
        return [leaf for item in obj.values() for leaf in _leaves(item)]
    return [obj]


_KEY_TYPES = (int, float, str, type(None), torch.dtype, torch.device, torch.layout)


def _cache_key(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple | None:
    if func._schema.is_mutable:
        return None
    parts: list[Any] = [func]
    for leaf in _leaves((args, kwargs)):
        if isinstance(leaf, torch.Tensor):
            shape, offset = tuple(leaf.shape), leaf.storage_offset()
            parts.append((shape, leaf.stride(), leaf.dtype, offset, leaf.device.type))
        elif isinstance(leaf, (*_KEY_TYPES, torch.memory_format)):
            parts.append(leaf)
        else:
            return None
    return tuple(parts)


def _remember(
    key: tuple[Any, ...], args: tuple[Any, ...], kwargs: dict[str, Any], out: Any
) -> None:
    outs = [out] if isinstance(out, torch.Tensor) else out
    if not isinstance(outs, (tuple, list)) or len(_OUTPUT_CACHE) >= _CACHE_LIMIT:
        return
    inputs = {
        t.untyped_storage()._cdata for t in _leaves((args, kwargs)) if isinstance(t, torch.Tensor)
    }
    shapes: list[tuple[tuple[int, ...], tuple[int, ...], torch.dtype] | None] = []
    for o in outs:
        if o is None:
            shapes.append(None)
            continue
        if not isinstance(o, torch.Tensor) or o.untyped_storage()._cdata in inputs:
            return
        nbytes = strided_extent(o.shape, o.stride()) * o.element_size()
        if o.untyped_storage().nbytes() != nbytes or o.storage_offset():
            return
        shapes.append((tuple(o.shape), o.stride(), o.dtype))
    _OUTPUT_CACHE[key] = (isinstance(out, torch.Tensor), type(out), tuple(shapes))


def _fresh_outputs(cached: tuple[Any, ...], device: str) -> Any:
    single, kind, shapes = cached
    outs = [
        None if s is None else torch.empty_strided(s[0], s[1], dtype=s[2], device=device)
        for s in shapes
    ]
    return outs[0] if single else kind(outs)


class _MetaArchitectureModule(ArchitectureModule):
    """An ``ArchitectureModule`` built on the default device (meta): no parameter initialised."""

    def __init__(self, arch: Architecture):
        nn.Module.__init__(self)
        self.arch = arch
        self.ops = nn.ModuleList(
            get_op_kind(e.op.kind).build(e.op).to(dtype=e.op.torch_dtype) for e in arch.edges
        )
        self._wiring = [(e.src, e.dst) for e in arch.edges]
        self.train(any(e.op.mode == "train" for e in arch.edges))


def _traced(
    subject: Subject, config: TrainConfig, engine: str, workspace: WorkspaceFn
) -> MemoryTrace:
    if engine not in ENGINES:
        raise LatbenchError(f"trace engine {engine!r} is not one of {', '.join(ENGINES)}")
    arch = as_training_architecture(subject, config.batch)
    if engine == "real":
        module = arch.build("cpu").train()
    else:
        with torch.device("meta"):
            module = _MetaArchitectureModule(arch)
    shape, dtype = arch.input_shape, arch.edges[0].op.torch_dtype
    rec = _Recorder("meta" if engine == "meta" else "cpu", workspace, cache=engine == "meta")
    try:
        inputs = (
            training_inputs(arch, "cpu")
            if engine == "real"
            else (torch.empty(shape, dtype=dtype, device="meta"),)
        )
        for t in (*module.parameters(), *module.buffers(), inputs[0]):
            rec.track(t)
        rec.trace.n_setup = len(rec.trace.events)
        with rec:
            run_training(module, inputs, config, mark=rec.mark)
    except LatbenchError:
        raise
    except Exception as exc:  # the network's own error (e.g. batch norm on one value in train)
        raise LatbenchError(
            f"{arch.name or arch.space} fails in a traced training step on a "
            f"{'x'.join(map(str, shape))} input: {failure_fields(exc)['error']}"
        ) from None
    finally:
        rec.closed = True
    rec.trace.meta = {
        "engine": engine,
        "config": config.to_dict(),
        "space": arch.space,
        "input_shape": list(shape),
        "n_ops": len(arch.edges),
    }
    return rec.trace


def trace_training(
    subject: Subject,
    config: TrainConfig = TrainConfig(),
    engine: str = "meta",
    workspace: WorkspaceFn = no_workspace,
    repeat_first_step: bool = True,
) -> MemoryTrace:
    """Allocations and frees of ``config.steps`` training steps of ``subject`` (no compute);
    ``workspace`` adds kernel-internal buffers (``latbench.memory.workspace``).

    With ``repeat_first_step`` (not for the real engine) only step 1 is traced and later steps
    are step 1's events again minus the allocations that outlive it (optimizer state, created
    once): the same sequence, in half the time (checked against full traces in the tests).
    """
    if repeat_first_step and engine != "real" and config.steps > 1:
        trace = _traced(subject, replace(config, steps=1), engine, workspace)
        trace.meta["config"] = config.to_dict()
        return repeat_steps(trace, config.steps)
    return _traced(subject, config, engine, workspace)


def repeat_steps(trace: MemoryTrace, steps: int) -> MemoryTrace:
    """A one-step trace extended to ``steps`` steps (see ``trace_training``)."""
    starts = dict((name, i) for i, name in trace.marks)
    begin, end = starts["step1/forward"], starts["end"]
    window = trace.events[begin:end]
    inside = {h for kind, h, _ in window if kind == ALLOC}
    live = inside - {h for kind, h, _ in window if kind == FREE}
    repeat = [e for e in window if e[1] not in live]
    first_free = 1 + max(h for _, h, _ in trace.events)
    events, marks = list(trace.events[:end]), [m for m in trace.marks if m[1] != "end"]
    step_marks = [
        (i - begin, name.split("/", 1)[1]) for i, name in trace.marks if name.startswith("step1/")
    ]
    for step in range(2, steps + 1):
        offset = first_free * (step - 1)
        marks += [(len(events) + i, f"step{step}/{phase}") for i, phase in step_marks]
        events += [(kind, h + offset if h in inside else h, n) for kind, h, n in repeat]
    marks.append((len(events), "end"))
    events += trace.events[end:]  # frees after the steps (optimizer state going away)
    return MemoryTrace(events, marks, trace.n_setup, dict(trace.meta))
