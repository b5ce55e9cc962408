"""CUDA-event timer: events around each sample, one synchronize per batch of samples; an
optional L2 flush before each sample (as triton's ``do_bench``) and CUDA-graph replay (tiny
ops). GPU clocks and settings are never changed; throttling is a warning on the measurement.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import torch

from latbench.device import gpu_throttle, require_cuda, throttled_between
from latbench.timing.adaptive import TimingConfig, measure_each, renumbered_turns
from latbench.timing.measurement import Measurement

L2_FLUSH_BYTES = 256 * 1024 * 1024
"""Bytes zeroed to evict the L2 cache (larger than any current GPU's L2)."""


def gpu_math_state() -> dict[str, Any]:
    """The GPU math settings that change a kernel's result and speed (part of every CUDA
    protocol: timm's GPU numbers used ``cudnn.benchmark`` and TF32): cuDNN autotuning and
    determinism, TF32 for convolutions and matmuls, the float32 matmul precision. Where TF32
    was set through torch's ``fp32_precision`` (legacy flags then raise) the TF32 entries
    hold that ('tf32', 'ieee', 'none'). Read only."""
    with warnings.catch_warnings():  # the allow_tf32 flags may be deprecated in newer torch
        warnings.simplefilter("ignore")
        return {
            "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
            "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
            "cudnn_allow_tf32": _setting(
                lambda: bool(torch.backends.cudnn.allow_tf32), "cudnn.conv"
            ),
            "matmul_allow_tf32": _setting(
                lambda: bool(torch.backends.cuda.matmul.allow_tf32), "cuda.matmul"
            ),
            "float32_matmul_precision": _setting(
                lambda: str(torch.get_float32_matmul_precision()), "cuda.matmul"
            ),
        }


def _setting(legacy: Callable[[], object], backend: str) -> object:
    """``legacy()``, or ``torch.backends.<backend>.fp32_precision`` where torch refuses it."""
    try:
        return legacy()
    except RuntimeError:
        module: Any = torch.backends
        for part in backend.split("."):
            module = getattr(module, part)
        return str(module.fp32_precision)


class CudaEventSampler:
    """Samples with CUDA events on the current stream of ``device``."""

    name = "cuda-event"

    def __init__(self, device: torch.device, l2_flush: bool = False, graph: bool = False):
        self.device = device
        if graph:
            self.name = "cuda-event+graph"
        self._flush = (
            torch.empty(L2_FLUSH_BYTES, dtype=torch.int8, device=device) if l2_flush else None
        )

    def now_ns(self) -> int:
        return time.perf_counter_ns()

    def sample(self, fn: Callable[[], object], calls: int, n: int) -> list[float]:
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
        stream = torch.cuda.current_stream(self.device)  # not the current device's: cuda:N
        for start, end in zip(starts, ends):
            if self._flush is not None:
                self._flush.zero_()
            start.record(stream)
            for _ in range(calls):
                fn()
            end.record(stream)
        torch.cuda.synchronize(self.device)
        return [s.elapsed_time(e) / calls for s, e in zip(starts, ends)]


def capture_graph(fn: Callable[[], object], device: torch.device) -> Callable[[], object]:
    """``fn`` captured in a CUDA graph (after warm-up on a side stream); returns its replay."""
    stream = torch.cuda.Stream(device)
    stream.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream(device).wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph.replay


class CudaTimer:
    """Adaptive CUDA-event timer for ``device`` ('cuda' or 'cuda:N')."""

    def __init__(
        self,
        device: str | torch.device = "cuda",
        config: TimingConfig | None = None,
        *,
        l2_flush: bool = False,
        cuda_graph: bool = False,
    ):
        self._device = require_cuda(device)
        self.device = str(self._device)
        self.config = config or TimingConfig(min_sample_ms=0.0)
        self.l2_flush, self.cuda_graph = l2_flush, cuda_graph
        self.sampler = CudaEventSampler(self._device, l2_flush, cuda_graph)

    def describe(self) -> dict[str, object]:
        return {
            "timer": self.sampler.name,
            "l2_flush": self.l2_flush,
            "gpu_math": gpu_math_state(),
            **self.config.as_dict(),
        }

    def measure(self, fn: Callable[[], object]) -> Measurement:
        result = self.measure_many([fn])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def measure_many(
        self,
        fns: Sequence[Callable[[], object]],
        on_round: Callable[[int, int], None] | None = None,
        *,
        on_turn: Callable[[int], None] | None = None,
    ) -> list[Measurement | Exception]:
        """Each callable's Measurement or error (``measure_each``)."""
        with torch.cuda.device(self._device):
            runs: dict[int, Callable[[], object]] = {}
            out: dict[int, Measurement | Exception] = {}
            for i, fn in enumerate(fns):
                if on_turn is not None and self.cuda_graph:
                    on_turn(i)
                try:
                    runs[i] = capture_graph(fn, self._device) if self.cuda_graph else fn
                except Exception as exc:  # noqa: BLE001 - recorded for this callable only
                    out[i] = exc
            before, held = gpu_throttle(self._device)
            turns = renumbered_turns(on_turn, list(runs), len(fns))
            results = measure_each(
                list(runs.values()), self.sampler, self.config, on_round, on_turn=turns
            )
            after, held_after = gpu_throttle(self._device)
            below = throttled_between(held, held_after)
        seen = sorted(set(before) | set(after))
        warn = [f"GPU throttled while measuring: {', '.join(seen)}"] if seen else []
        if below:
            warn.append(f"GPU held below its application clocks while measuring: {below}")
        for i, r in zip(runs, results):
            if isinstance(r, Measurement):
                r = replace(r, extra_warnings=(*r.extra_warnings, *warn))
            out[i] = r
        return [out[i] for i in range(len(fns))]
