"""CPU timer: a monotonic nanosecond clock and an explicit torch thread count."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence

import torch

from latbench.timing.adaptive import TimingConfig, measure_adaptive, measure_each
from latbench.timing.measurement import Measurement


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[int]:
    """Run with ``threads`` intra-op threads (None: leave as is); restores the old count."""
    old = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(old)


class CpuSampler:
    """Times blocks of calls with ``clock`` (``time.perf_counter_ns`` unless a test fakes it)."""

    name = "cpu-perf_counter_ns"

    def __init__(self, clock: Callable[[], int] = time.perf_counter_ns):
        self._clock = clock

    def now_ns(self) -> int:
        return self._clock()

    def sample(self, fn: Callable[[], object], calls: int, n: int) -> list[float]:
        clock, out = self._clock, []
        for _ in range(n):
            t0 = clock()
            for _ in range(calls):
                fn()
            out.append((clock() - t0) / 1e6 / calls)
        return out


class CpuTimer:
    """Adaptive CPU timer; ``threads`` fixes torch's intra-op thread count while measuring."""

    def __init__(self, config: TimingConfig | None = None, *, threads: int | None = None,
                 clock: Callable[[], int] = time.perf_counter_ns):
        self.config = config or TimingConfig()
        self.threads = threads
        self.sampler = CpuSampler(clock)

    @property
    def device(self) -> str:
        return "cpu"

    def describe(self) -> dict[str, object]:
        return {"timer": self.sampler.name, "threads": self.threads or torch.get_num_threads(),
                **self.config.as_dict()}

    def measure(self, fn: Callable[[], object]) -> Measurement:
        with torch_threads(self.threads):
            return measure_adaptive(fn, self.sampler, self.config)

    def measure_many(self, fns: Sequence[Callable[[], object]],
                     on_round: Callable[[int, int], None] | None = None
                     ) -> list[Measurement | Exception]:
        """Each callable's Measurement or error; interleaved when ``config.rounds > 1``."""
        with torch_threads(self.threads):
            return measure_each(fns, self.sampler, self.config, on_round)
