"""Interleaved rounds (``TimingConfig.rounds > 1``), driven by a fake clock whose speed drifts."""

from __future__ import annotations

import pytest

from latbench.timing import CpuTimer, TimingConfig
from latbench.timing.adaptive import bound_ms


class DriftingMachine:
    """A fake clock on a machine that runs at full speed for ``fast_ms``, then ``slowdown``
    times slower (a neighbour's job starting); ``op(cost_ms)`` makes a callable of that cost."""

    def __init__(self, fast_ms: float, slowdown: float):
        self.now, self.fast_ms, self.slowdown = 0, fast_ms, slowdown
        self.log: list[str] = []

    def __call__(self) -> int:
        return self.now

    def op(self, name: str, cost_ms: float):
        def run() -> None:
            self.log.append(name)
            factor = 1.0 if self.now < self.fast_ms * 1e6 else self.slowdown
            self.now += int(cost_ms * factor * 1e6)

        return run


def config(rounds: int) -> TimingConfig:
    return TimingConfig(
        warmup_ms=2, budget_ms=100, min_sample_ms=0.0, min_samples=1000, rounds=rounds
    )


def test_rounds_visit_every_callable_in_turn():
    clock = DriftingMachine(fast_ms=1e9, slowdown=1.0)
    timer = CpuTimer(config(rounds=4), clock=clock)
    results = timer.measure_many([clock.op("a", 1.0), clock.op("b", 2.0), clock.op("c", 1.0)])
    assert [r.median_ms for r in results] == pytest.approx([1.0, 2.0, 1.0])
    assert all(r.stop_reason == "rounds=4" and r.n >= 4 for r in results)
    runs = [name for i, name in enumerate(clock.log) if i == 0 or clock.log[i - 1] != name]
    assert runs[-12:] == ["a", "b", "c"] * 4  # after the warm-ups, four round-robin rounds


def test_drift_splits_identical_ops_one_after_the_other_but_not_interleaved():
    """Two identical ops; the machine slows 1.5x halfway through. Measured one after the
    other, the second looks 50 % slower; interleaved, both keep their fast samples."""
    half_ms = 2 + 100 + 2  # warm-up and budget of the first op, plus slack
    sequential = DriftingMachine(fast_ms=half_ms, slowdown=1.5)
    a, b = CpuTimer(config(rounds=1), clock=sequential).measure_many(
        [sequential.op("a", 1.0), sequential.op("b", 1.0)]
    )
    assert b.median_ms / a.median_ms == pytest.approx(1.5, rel=0.02)

    interleaved = DriftingMachine(fast_ms=half_ms, slowdown=1.5)
    a, b = CpuTimer(config(rounds=10), clock=interleaved).measure_many(
        [interleaved.op("a", 1.0), interleaved.op("b", 1.0)]
    )
    assert min(b.samples_ms) / min(a.samples_ms) == pytest.approx(1.0, rel=0.01)
    assert b.median_ms / a.median_ms == pytest.approx(1.0, rel=0.1)


def test_a_callable_that_fails_midway_is_dropped_and_the_others_measured():
    clock = DriftingMachine(fast_ms=1e9, slowdown=1.0)
    calls = {"n": 0}

    def flaky() -> None:
        calls["n"] += 1
        if calls["n"] > 20:
            raise RuntimeError("CUDA out of memory (fake)")
        clock.op("flaky", 1.0)()

    timer = CpuTimer(config(rounds=5), clock=clock)
    good, bad = timer.measure_many([clock.op("good", 1.0), flaky])
    assert good.median_ms == pytest.approx(1.0) and good.n >= 5
    assert isinstance(bad, RuntimeError) and "out of memory" in str(bad)


def test_protocol_names_rounds_only_when_interleaving():
    assert "rounds" not in TimingConfig().as_dict()  # tables measured before keep their id
    assert TimingConfig(rounds=20).as_dict()["rounds"] == 20
    with pytest.raises(ValueError, match="rounds"):
        TimingConfig(rounds=0)


@pytest.mark.parametrize("rounds", [1, 20])
def test_the_budget_bounds_each_ops_time_however_slow_the_op(rounds):
    """The profile issue's case: 100 ms budget, 20 rounds, ops up to 885 ms per call. Each op
    takes at most ``bound_ms`` (warm-up + budget + two calls); one slower than the budget gets
    one sample (before: one per round, plus five calls of estimate and warm-up)."""
    costs = {"tiny": 0.3, "mid": 30.0, "near": 90.0, "slow": 250.0, "huge": 885.0}
    clock = DriftingMachine(fast_ms=1e9, slowdown=1.0)
    cfg = TimingConfig(warmup_ms=50, budget_ms=100, rounds=rounds)
    results = CpuTimer(cfg, clock=clock).measure_many([clock.op(k, c) for k, c in costs.items()])
    for (name, cost), m in zip(costs.items(), results):
        spent_ms = clock.log.count(name) * cost
        assert spent_ms <= bound_ms(cfg, cost) <= cfg.warmup_ms + 1.25 * cfg.budget_ms + 2 * cost
        assert m.median_ms == pytest.approx(cost)
        if cost > cfg.budget_ms:
            assert m.n == 1 and spent_ms == 2 * cost and "only 1 sample(s)" in m.warnings[0]
        elif m.stop_reason != "converged":  # the budget is used
            assert spent_ms >= cfg.budget_ms - cost
    assert clock.now / 1e6 <= sum(bound_ms(cfg, c) for c in costs.values())
