"""The adaptive measuring loop, shared by every timer (the clock is the only difference).

Follows triton's ``do_bench`` and torch.utils.benchmark: one untimed call, a short estimate,
warm-up by a time budget turned into a count, then samples (blocks of ``calls_per_sample``
calls, each >= ``min_sample_ms``) until the median's 95 % CI is within ``target_rel_ci`` or the
budget runs out. With ``rounds > 1`` callables are measured round-robin (``measure_each``), so
all see the same drift of a shared machine and each one's minimum comes from its quiet moments
(Chen & Revels, "Robust benchmarking in noisy environments", 2016).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Protocol

import numpy as np

from latbench.timing.measurement import Measurement, median_rel_ci95

FEW_SAMPLES = 3
"""Below this many samples (an op slower than its budget) a Measurement carries a warning."""


@dataclass(frozen=True)
class DriftReference:
    """A fixed callable measured in every round beside an interleaved group: the machine's
    slow-down shows as ``drift`` (``latbench.timed.DRIFT_REFERENCE``). ``id``: its name in a
    table's protocol; ``build()``: the callable (called once per group: cache it)."""

    id: str
    build: Callable[[], Callable[[], object]]


@dataclass(frozen=True)
class TimingConfig:
    """How long and how precisely to measure; budgets in milliseconds of wall time."""

    warmup_ms: float = 50.0
    budget_ms: float = 400.0
    min_samples: int = 10
    max_samples: int = 5000
    target_rel_ci: float = 0.01
    min_sample_ms: float = 0.5
    batch: int = 10
    rounds: int = 1
    """> 1: callables measured together are interleaved in rounds (``measure_each``)."""
    reference: DriftReference | None = None
    """With ``rounds > 1``: measured in every round, giving each Measurement its ``drift``."""

    def __post_init__(self) -> None:
        if min(self.budget_ms, self.min_samples, self.target_rel_ci, self.rounds) <= 0:
            raise ValueError(
                f"invalid TimingConfig {self}: budgets, sample counts, rounds and "
                "the CI target must be positive"
            )

    def as_dict(self) -> dict[str, float | str]:
        """The protocol fields (``rounds`` and ``reference`` only when used: the protocol id
        of a table measured without them stays)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.rounds == 1:
            del out["rounds"]
        if self.reference is None:
            del out["reference"]
        else:
            out["reference"] = self.reference.id
        return out


QUICK = TimingConfig(warmup_ms=5.0, budget_ms=40.0, min_samples=8, target_rel_ci=0.01, batch=4)
"""A fast single-op protocol: 5 ms warm-up, then samples in batches of 4 until the median's
95 % CI is within ±1 % (>= 8 samples, <= 40 ms); bench/timer_vs_torch_benchmark.py compares
its time to answer with torch.utils.benchmark's ``blocked_autorange`` (0.2 s minimum)."""


def min_sample_ms_for(device: str, clock: str = "wall") -> float:
    """Shortest sample on ``device``: 0.5 ms on the CPU (clock and loop overhead stay small),
    1 ms on the ``thread`` clock (a 2-4 µs system call per read); 0 on a GPU (events)."""
    if device.split(":")[0] != "cpu":
        return 0.0
    return 1.0 if clock in ("thread", "thread_time_ns") else 0.5


class Sampler(Protocol):
    """A clock (``now_ns``: the budget's) and ``sample``: per-call ms of ``n`` samples of
    ``calls`` back-to-back calls each."""

    name: str

    def now_ns(self) -> int: ...

    def sample(self, fn: Callable[[], object], calls: int, n: int) -> list[float]: ...


PRIMED_SLICE = 4
"""An interleaved slice of at least this many samples starts with an untimed call."""


def bound_ms(config: TimingConfig, call_ms: float) -> float:
    """The most time (ms, give or take one call's noise) measuring an op of ``call_ms`` per
    call takes: two calls when a call outlasts ``budget_ms``; else the first call, warm-up
    (``warmup_ms`` or one call), ``budget_ms`` of samples and, interleaved, the slices'
    untimed calls (``budget_ms / PRIMED_SLICE`` at most)."""
    if call_ms >= config.budget_ms:
        return 2 * call_ms
    primed = config.budget_ms / PRIMED_SLICE if config.rounds > 1 else 0.0
    return call_ms + max(call_ms, config.warmup_ms) + config.budget_ms + primed


def _warm_up(fn: Callable[[], object], sampler: Sampler, config: TimingConfig) -> tuple[int, float]:
    """Untimed first call, an estimate of 1-3 calls (counted in ``warmup_ms``), warm-up;
    returns (calls per sample, sample ms). A first call outlasting ``budget_ms`` is all."""
    first = sampler.sample(fn, 1, 1)  # untimed: lazy init, allocator, autotuning
    t0 = sampler.now_ns()
    if first[0] < config.budget_ms:
        first = sampler.sample(fn, 1, 1)
        limit_ms = max(config.warmup_ms, config.min_sample_ms)
        while len(first) < 3 and sum(first) + first[-1] <= limit_ms:
            first += sampler.sample(fn, 1, 1)
    estimate_ms = max(float(np.median(first)), 1e-6)
    calls = max(1, math.ceil(config.min_sample_ms / estimate_ms))
    sample_ms = estimate_ms * calls
    spent_ms = max(sum(first), (sampler.now_ns() - t0) / 1e6)  # on a loaded machine: wall
    cost_ms = sample_ms * spent_ms / max(sum(first), 1e-6)
    n_warm = int((config.warmup_ms - spent_ms) // cost_ms)
    if n_warm > 0:
        sampler.sample(fn, calls, n_warm)
    return calls, sample_ms


def _measurement(
    samples: list[float], calls: int, sampler: Sampler, total_s: float, stop: str, budget_ms: float
) -> Measurement:
    """The Measurement of ``samples``, warning when there are fewer than ``FEW_SAMPLES``."""
    few = (
        f"only {len(samples)} sample(s): a call outlasts the {budget_ms:g} ms budget "
        "(no spread or CI estimated; raise --budget-ms for more)"
    )
    warn = (few,) if len(samples) < FEW_SAMPLES else ()
    return Measurement(tuple(samples), calls, sampler.name, total_s, stop, warn)


def measure_adaptive(
    fn: Callable[[], object], sampler: Sampler, config: TimingConfig
) -> Measurement:
    """Time ``fn`` with ``sampler`` following ``config``. Batches end within the budget on its
    clock (the first one short, to see what a sample costs); one sample when none fits."""
    t0 = sampler.now_ns()
    calls, sample_ms = _warm_up(fn, sampler, config)

    samples: list[float] = []
    start = sampler.now_ns()
    reason = "max_samples"
    cost_ms = sample_ms  # budget-clock time per sample: on a loaded machine, more than it reads
    while len(samples) < config.max_samples:
        t = sampler.now_ns()
        left_ms = config.budget_ms - (t - start) / 1e6
        size = config.batch if samples else min(config.batch, FEW_SAMPLES)
        n = min(size, config.max_samples - len(samples), int(left_ms // cost_ms))
        if n < 1 and samples:
            reason = "budget"
            break
        samples.extend(sampler.sample(fn, calls, max(n, 1)))
        sample_ms = max(float(np.median(samples)) * calls, 1e-6)
        cost_ms = max(sample_ms, (sampler.now_ns() - t) / 1e6 / max(n, 1))
        if len(samples) >= config.min_samples and median_rel_ci95(samples) <= config.target_rel_ci:
            reason = "converged"
            break
    total_s = (sampler.now_ns() - t0) / 1e9
    return _measurement(samples, calls, sampler, total_s, reason, config.budget_ms)


@dataclass
class _Slot:
    """One interleaved callable; ``credit_ms``: each round adds ``budget_ms / rounds``, each
    sample takes its length (a sample longer than a slice is taken every few rounds)."""

    calls: int
    sample_ms: float
    samples: list[float] = field(default_factory=list)
    spent_ns: int = 0
    credit_ms: float = 0.0


OnTurn = Callable[[int], None]
"""``on_turn(i)``: callable ``i`` (``len(batch)``: the drift reference) starts a turn (build,
warm-up, a round's slice); called between timed calls (a watchdog's per-item deadline)."""


def measure_each(
    fns: Sequence[Callable[[], object]],
    sampler: Sampler,
    config: TimingConfig,
    on_round: Callable[[int, int], None] | None = None,
    *,
    reference: Callable[[], object] | None = None,
    nominal_ms: float | None = None,
    on_turn: OnTurn | None = None,
) -> list[Measurement | Exception]:
    """A Measurement, or the exception that stopped it (the others go on), per callable.

    ``rounds == 1``: one after the other (``measure_adaptive``). ``rounds > 1``: each is warmed
    up, then in every round each takes samples for ``budget_ms / rounds`` (after one untimed call
    when the slice holds several samples: the others left the caches cold). ``on_round(done,
    rounds)`` after each round; ``on_turn(i)`` before each measuring, warm-up or slice of callable
    ``i`` (``len(fns)``: the reference).

    ``reference`` (interleaved only): a fixed callable measured in every round; each Measurement
    carries its fastest sample (``reference_ms``) and ``drift = reference_ms / nominal_ms``
    (default: this group's reference), divided out of the ``*_corrected_ms`` statistics.
    """
    turn = on_turn or (lambda i: None)
    if config.rounds == 1:
        each: list[Measurement | Exception] = []
        for i, fn in enumerate(fns):
            turn(i)
            try:
                each.append(measure_adaptive(fn, sampler, config))
            except Exception as exc:  # noqa: BLE001 - recorded for this callable only
                each.append(exc)
        return each
    fns = [*fns, reference] if reference is not None else list(fns)
    out: dict[int, Measurement | Exception] = {}
    live: dict[int, _Slot] = {}
    for i, fn in enumerate(fns):
        turn(i)
        t0 = sampler.now_ns()
        try:
            calls, sample_ms = _warm_up(fn, sampler, config)
        except Exception as exc:  # noqa: BLE001
            out[i] = exc
            continue
        live[i] = _Slot(calls, sample_ms, spent_ns=sampler.now_ns() - t0)
    slice_ms = config.budget_ms / config.rounds
    per_slice_max = max(1, config.max_samples // config.rounds)
    for done in range(1, config.rounds + 1):
        for i in list(live):
            slot = live[i]
            slot.credit_ms += slice_ms
            n = min(per_slice_max, int(slot.credit_ms // slot.sample_ms))
            if n < 1 and (slot.samples or done < config.rounds):
                continue
            turn(i)
            t0 = sampler.now_ns()
            try:
                if PRIMED_SLICE * slot.sample_ms <= slice_ms:
                    sampler.sample(fns[i], slot.calls, 1)
                new = sampler.sample(fns[i], slot.calls, max(n, 1))
            except Exception as exc:  # noqa: BLE001
                out[i] = exc
                del live[i]
                continue
            slot.samples.extend(new)
            slot.credit_ms -= len(new) * slot.sample_ms  # as planned: a drift shifts no counts
            slot.sample_ms = max(float(np.median(slot.samples)) * slot.calls, 1e-6)
            slot.spent_ns += sampler.now_ns() - t0
        if on_round is not None:
            on_round(done, config.rounds)
    for i, slot in live.items():
        stop = f"rounds={config.rounds}"
        out[i] = _measurement(
            slot.samples, slot.calls, sampler, slot.spent_ns / 1e9, stop, config.budget_ms
        )
    results = [out[i] for i in range(len(fns))]
    if reference is None:
        return results
    ref = results.pop()
    if not isinstance(ref, Measurement):
        return results
    ref_ms = min(ref.samples_ms)
    drift = ref_ms / (nominal_ms or ref_ms)
    return [
        replace(m, reference_ms=ref_ms, drift=drift) if isinstance(m, Measurement) else m
        for m in results
    ]


def renumbered_turns(on_turn: OnTurn | None, kept: Sequence[int], n: int) -> OnTurn | None:
    """``on_turn`` for the callables ``kept`` (indices) of a batch of ``n``: turn ``j`` is
    reported as ``kept[j]``, anything past them (the reference) as ``n``."""
    if on_turn is None:
        return None
    return lambda j: on_turn(kept[j] if j < len(kept) else n)
