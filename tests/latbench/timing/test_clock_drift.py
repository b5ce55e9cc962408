"""The CPU clock choice and the drift reference measured in every interleaved round."""

from __future__ import annotations

import time

import pytest

from latbench.errors import MeasurementError
from latbench.profile import protocol_of
from latbench.timed import DRIFT_REFERENCE
from latbench.timing import CpuTimer, TimingConfig, make_timer, measure_each, resolve_clock
from latbench.timing.cpu import CpuSampler


class DriftingMachine:
    """A fake clock that runs at full speed until ``fast_ms``, then ``slowdown`` times slower."""

    def __init__(self, fast_ms: float, slowdown: float):
        self.now, self.fast_ms, self.slowdown = 0, fast_ms, slowdown

    def __call__(self) -> int:
        return self.now

    def op(self, cost_ms: float):
        def run() -> None:
            factor = 1.0 if self.now < self.fast_ms * 1e6 else self.slowdown
            self.now += int(cost_ms * factor * 1e6)

        return run


def test_auto_clock_is_thread_time_with_one_thread_and_wall_otherwise():
    assert resolve_clock("auto", 1) == "thread"
    assert resolve_clock("auto", 2) == "wall"
    assert resolve_clock("wall", 1) == "wall"
    with pytest.raises(MeasurementError, match="only the calling thread"):
        resolve_clock("thread", 4)
    with pytest.raises(MeasurementError, match="not one of"):
        resolve_clock("tsc", 1)


def test_the_clock_is_part_of_the_protocol_id():
    thread = make_timer("cpu", TimingConfig(), threads=1)
    wall = make_timer("cpu", TimingConfig(), threads=1, clock="wall")
    assert thread.describe()["clock"] == "thread_time_ns"
    assert wall.describe()["clock"] == "perf_counter_ns"
    assert protocol_of(thread)[1] != protocol_of(wall)[1]


def test_thread_clock_leaves_out_time_the_thread_does_not_run():
    sampler = CpuSampler("thread")
    ms = sampler.sample(lambda: time.sleep(0.02), 1, 1)[0]
    assert ms < 5.0  # asleep (descheduled) for 20 ms: not counted
    assert CpuSampler("wall").sample(lambda: time.sleep(0.02), 1, 1)[0] >= 19.0


def test_reference_divides_out_a_slowdown_of_the_whole_machine():
    """Group 1 runs on a fast machine, group 2 after it slowed 1.3x: raw minima differ by
    30 %, drift says 1.3 and the corrected minima agree."""
    config = TimingConfig(
        warmup_ms=2,
        budget_ms=50,
        min_sample_ms=0.0,
        min_samples=1000,
        rounds=5,
        reference=DRIFT_REFERENCE,
    )
    machine = DriftingMachine(fast_ms=150, slowdown=1.3)
    sampler = CpuSampler(machine)
    first = measure_each([machine.op(2.0)], sampler, config, reference=machine.op(1.0))[0]
    machine.now = int(1e9)  # later: the machine is now 1.3x slower
    second = measure_each(
        [machine.op(2.0)], sampler, config, reference=machine.op(1.0), nominal_ms=first.reference_ms
    )[0]
    s1, s2 = first.stats(), second.stats()
    assert s1["drift"] == pytest.approx(1.0) and s2["drift"] == pytest.approx(1.3, rel=0.01)
    assert s2["latency_min_ms"] / s1["latency_min_ms"] == pytest.approx(1.3, rel=0.01)
    assert s2["latency_min_corrected_ms"] == pytest.approx(s1["latency_min_corrected_ms"], rel=0.01)


def test_without_a_reference_the_corrected_columns_stay_empty():
    m = CpuTimer(TimingConfig(warmup_ms=1, budget_ms=5), threads=1).measure(lambda: None)
    assert m.stats()["latency_min_corrected_ms"] is None and m.stats()["drift"] is None


def test_real_timer_measures_its_reference_in_every_round():
    timer = CpuTimer(
        TimingConfig(
            warmup_ms=2, budget_ms=20, rounds=4, reference=DRIFT_REFERENCE, min_sample_ms=0.2
        ),
        threads=1,
    )
    a, b = timer.measure_many([lambda: sum(range(2000)), lambda: sum(range(4000))])
    assert a.reference_ms == b.reference_ms > 0 and a.drift == pytest.approx(1.0)
    assert timer.reference_nominal_ms == a.reference_ms
    assert "reference" in timer.describe()


def test_the_reference_is_a_fixed_network_named_in_the_protocol():
    import torch

    from latbench.timed import REFERENCE_ID, reference_callable

    assert TimingConfig(rounds=2, reference=DRIFT_REFERENCE).as_dict()["reference"] == REFERENCE_ID
    assert "reference" not in TimingConfig(rounds=2).as_dict()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a, b = reference_callable(), reference_callable()
    assert torch.equal(torch.get_rng_state(), state)  # the caller's RNG is left alone
    assert torch.equal(a(), b())  # the same network, the same weights, every time
