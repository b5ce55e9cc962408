"""CPU timer: a choice of clock, an explicit torch thread count, an optional drift reference.

Clocks (docs/measurement-protocol.md): ``thread`` (``time.thread_time_ns``: one torch thread's
latency on a dedicated core, time descheduled left out; refused with more threads), ``wall``
(``time.perf_counter_ns``: what a user waits), ``auto`` (``thread`` with one thread, else
``wall``). Budgets always count wall time.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence

import torch

from latbench.errors import MeasurementError
from latbench.timing.adaptive import TimingConfig, measure_adaptive, measure_each
from latbench.timing.measurement import Measurement

CLOCKS: dict[str, Callable[[], int]] = {"thread": time.thread_time_ns, "wall": time.perf_counter_ns}
CLOCK_CHOICES = ("auto", *CLOCKS)
"""Values of ``--clock``."""

LOADED_WARN = 0.5
"""Multi-threaded runs warn above this 1-minute load average per core left to other work."""


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


def resolve_clock(clock: str, threads: int) -> str:
    """``thread`` or ``wall`` for ``clock`` (auto/thread/wall) at ``threads`` torch threads.
    Raises ``MeasurementError`` for an unknown clock, or ``thread`` with more than one thread
    (the other threads' work would not be counted: it is not a latency)."""
    if clock not in CLOCK_CHOICES:
        raise MeasurementError(f"clock {clock!r} is not one of {', '.join(CLOCK_CHOICES)}")
    if clock == "auto":
        return "thread" if threads == 1 else "wall"
    if clock == "thread" and threads != 1:
        raise MeasurementError(
            f"clock 'thread' with {threads} torch threads would count only "
            "the calling thread's work, not the latency; use --threads 1 "
            "or --clock wall"
        )
    return clock


def warn_if_loaded(threads: int) -> str:
    """The warning issued when a multi-threaded run starts on a loaded machine ('' if none)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        return ""
    if threads <= 1 or load <= LOADED_WARN * max(cores - threads, 1) + 0.5:
        return ""
    text = (
        f"measuring with {threads} threads while the load average is {load:.1f} on "
        f"{cores} cores: other processes share these cores and the wall clock counts "
        "their time; use --threads 1 (thread clock) for repeatable numbers"
    )
    warnings.warn(text, stacklevel=3)
    return text


class CpuSampler:
    """Times blocks of calls with ``clock``: a name of ``CLOCKS`` or a callable (tests)."""

    def __init__(self, clock: str | Callable[[], int] = "wall"):
        if isinstance(clock, str):
            self._clock, self.clock_name = CLOCKS[clock], CLOCKS[clock].__name__
            self._budget_clock = time.perf_counter_ns
        else:
            self._clock = self._budget_clock = clock
            self.clock_name = getattr(clock, "__name__", "custom")
        self.name = f"cpu-{self.clock_name}"

    def now_ns(self) -> int:
        return self._budget_clock()

    def sample(self, fn: Callable[[], object], calls: int, n: int) -> list[float]:
        clock, out = self._clock, []
        for _ in range(n):
            t0 = clock()
            for _ in range(calls):
                fn()
            out.append((clock() - t0) / 1e6 / calls)
        return out


class CpuTimer:
    """Adaptive CPU timer; ``threads`` fixes torch's intra-op thread count while measuring;
    ``clock``: ``auto`` / ``thread`` / ``wall``, or a callable returning ns (tests)."""

    def __init__(
        self,
        config: TimingConfig | None = None,
        *,
        threads: int | None = None,
        clock: str | Callable[[], int] = "auto",
    ):
        self.config = config or TimingConfig()
        self.threads = threads
        if isinstance(clock, str):
            clock = resolve_clock(clock, threads or torch.get_num_threads())
        self.sampler = CpuSampler(clock)
        self.clock = self.sampler.clock_name
        self._warned = False
        self.reference_nominal_ms: float | None = None
        """What ``drift`` is relative to: the first group's reference, unless set."""

    device = "cpu"

    def describe(self) -> dict[str, object]:
        return {
            "timer": self.sampler.name,
            "clock": self.clock,
            "threads": self.threads or torch.get_num_threads(),
            **self.config.as_dict(),
        }

    def measure(self, fn: Callable[[], object]) -> Measurement:
        with torch_threads(self.threads):
            return measure_adaptive(fn, self.sampler, self.config)

    def measure_many(
        self,
        fns: Sequence[Callable[[], object]],
        on_round: Callable[[int, int], None] | None = None,
        *,
        on_turn: Callable[[int], None] | None = None,
    ) -> list[Measurement | Exception]:
        """Each callable's Measurement or error (``measure_each``)."""
        with torch_threads(self.threads) as n:
            if self.clock == "perf_counter_ns" and not self._warned:
                self._warned = bool(warn_if_loaded(n))
            reference = self.config.reference.build() if self.config.reference else None
            out = measure_each(
                fns,
                self.sampler,
                self.config,
                on_round,
                reference=reference,
                nominal_ms=self.reference_nominal_ms,
                on_turn=on_turn,
            )
        first = (m.reference_ms for m in out if isinstance(m, Measurement) and m.reference_ms)
        self.reference_nominal_ms = self.reference_nominal_ms or next(first, None)
        return out
