"""Per-op memory terms, traced on meta tensors: what each op's forward keeps alive for backward
and its parameter bytes, which the HyperSegNAS fast screen (``latbench.predictors.memory_screen``)
sums per network."""

from __future__ import annotations

import functools
from dataclasses import replace

from latbench.memory.steps import TrainConfig
from latbench.memory.trace import trace_training
from latbench.opspec import OpSpec


@functools.lru_cache(maxsize=65536)
def op_terms(spec: OpSpec, config: TrainConfig) -> tuple[float, float]:
    """(bytes the op's forward keeps alive for backward, parameter bytes) of ``spec`` in
    training, from a one-step trace of the op alone (cached per spec)."""
    trace = trace_training(spec, replace(config, steps=1))
    start = next(i for i, name in trace.marks if name.endswith("/backward"))
    live: dict[int, int] = {}
    for kind, handle, nbytes in trace.events[:start]:
        if kind:
            live[handle] = nbytes
        else:
            live.pop(handle, None)
    kept = sum(live.values()) - trace.setup_bytes
    params = sum(p.numel() * p.element_size() for p in spec.build("meta").parameters())
    return float(max(kept, 0)), float(params)
