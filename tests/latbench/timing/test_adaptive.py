"""The adaptive loop, driven by a fake clock (no real timing, deterministic)."""

from __future__ import annotations

import pytest

from latbench.timing import CpuTimer, TimingConfig
from latbench.timing.measurement import Measurement, median_ci95


def test_low_noise_converges_quickly_and_finds_the_median(fake_clock):
    clock = fake_clock(median_ms=2.0, rel_noise=0.01)
    timer = CpuTimer(TimingConfig(warmup_ms=10, budget_ms=1000, target_rel_ci=0.01), clock=clock)
    m = timer.measure(clock.op)
    assert m.stop_reason == "converged"
    assert m.median_ms == pytest.approx(2.0, rel=0.01)
    assert m.n >= 10 and m.n < 100
    assert m.rel_ci95 <= 0.01
    assert not m.warnings


def test_high_noise_stops_at_the_budget_with_a_spread_warning(fake_clock):
    clock = fake_clock(median_ms=1.0, rel_noise=0.5)
    timer = CpuTimer(TimingConfig(warmup_ms=5, budget_ms=200, target_rel_ci=0.001), clock=clock)
    m = timer.measure(clock.op)
    assert m.stop_reason == "budget"
    measured_ms = sum(m.samples_ms) * m.calls_per_sample
    assert 190 <= measured_ms <= 200 + 2 * 1.0 * 1.5  # batches end within the budget
    assert any("high spread" in w for w in m.warnings)
    assert m.median_ms == pytest.approx(1.0, rel=0.15)


def test_tiny_ops_are_timed_in_blocks(fake_clock):
    clock = fake_clock(median_ms=0.01, rel_noise=0.0)
    timer = CpuTimer(TimingConfig(min_sample_ms=0.5, budget_ms=50), clock=clock)
    m = timer.measure(clock.op)
    assert m.calls_per_sample == 50
    assert m.median_ms == pytest.approx(0.01, rel=1e-6)


def test_op_slower_than_the_budget_gets_one_sample_and_says_so(fake_clock):
    clock = fake_clock(median_ms=500.0, rel_noise=0.0)
    timer = CpuTimer(TimingConfig(warmup_ms=0, budget_ms=100, min_samples=10), clock=clock)
    m = timer.measure(clock.op)
    assert m.n == 1 and m.stop_reason == "budget"
    assert clock.calls == 2  # the untimed first call and the sample
    assert any("only 1 sample(s)" in w for w in m.warnings)


def test_warmup_runs_before_samples(fake_clock):
    clock = fake_clock(median_ms=1.0, rel_noise=0.0)
    CpuTimer(TimingConfig(warmup_ms=100, budget_ms=20, min_samples=3), clock=clock).measure(
        clock.op
    )
    # 1 untimed call, then 100 ms of estimate (3 calls) and warm-up before the kept samples
    assert clock.calls >= 101 + 3


def test_max_samples_caps_the_run(fake_clock):
    clock = fake_clock(median_ms=1.0, rel_noise=0.5)
    cfg = TimingConfig(warmup_ms=0, budget_ms=1e9, max_samples=40, target_rel_ci=1e-9)
    m = CpuTimer(cfg, clock=clock).measure(clock.op)
    assert m.n == 40 and m.stop_reason == "max_samples"


def test_median_ci_contains_the_median_and_shrinks_with_n():
    import numpy as np

    rng = np.random.default_rng(1)
    small = np.sort(rng.normal(10, 1, 50))
    large = np.sort(rng.normal(10, 1, 5000))
    lo_s, hi_s = median_ci95(small)
    lo_l, hi_l = median_ci95(large)
    assert lo_s <= np.median(small) <= hi_s
    assert hi_l - lo_l < (hi_s - lo_s) / 3


def test_measurement_stats_have_unit_names_and_round_trip():
    m = Measurement((1.0, 2.0, 3.0, 4.0), 1, "cpu-perf_counter_ns")
    stats = m.stats()
    assert stats["latency_median_ms"] == 2.5
    assert stats["latency_iqr_ms"] == pytest.approx(1.5)
    assert stats["n_samples"] == 4
    assert Measurement(**{**m.to_dict(), "samples_ms": tuple(m.to_dict()["samples_ms"])}) == m


def test_empty_measurement_is_refused():
    with pytest.raises(ValueError):
        Measurement((), 1, "cpu")


def test_invalid_config_is_refused():
    with pytest.raises(ValueError, match="TimingConfig"):
        TimingConfig(budget_ms=0)


def test_contention_is_flagged_when_the_median_is_far_above_the_fastest_sample():
    busy = Measurement((0.4, 60.0, 64.0, 70.0), 1, "cpu-perf_counter_ns")
    quiet = Measurement((1.0, 1.01, 1.02, 1.03), 1, "cpu-perf_counter_ns")
    assert any("probably busy" in w for w in busy.warnings)
    assert not quiet.warnings


def test_the_default_protocol_costs_about_twice_torchs_blocked_autorange(fake_clock):
    """On a loaded machine the ±1 % target is not met and the budget is the cost: the default
    answers within 2.5x of blocked_autorange's 0.2 s minimum (1.05 s before), 2 ms op or 20."""
    for call_ms in (2.0, 20.0):
        clock = fake_clock(median_ms=call_ms, rel_noise=0.3)
        m = CpuTimer(TimingConfig(), clock=clock).measure(clock.op)
        assert m.stop_reason == "budget" and m.n >= 10
        assert clock.now / 1e9 <= 2.5 * 0.2


class LoadedSampler:
    """A thread clock on a loaded machine: each call reads ``call_ms`` (CPU time) but takes
    ``slowdown`` times that of the wall clock the budget counts."""

    name = "cpu-fake-thread"

    def __init__(self, call_ms: float, slowdown: float):
        self.wall_ns, self.call_ms, self.slowdown = 0, call_ms, slowdown

    def now_ns(self) -> int:
        return self.wall_ns

    def sample(self, fn, calls: int, n: int) -> list[float]:  # noqa: ANN001
        self.wall_ns += int(n * calls * self.call_ms * self.slowdown * 1e6)
        return [self.call_ms] * n


def test_budgets_count_wall_time_when_the_thread_clock_reads_less():
    """At load ~10 on 2 cores a 2 ms (CPU) op takes 10 ms of wall time: warm-up and batches
    are planned on what they cost in wall time, so warm-up + budget hold (0.69 s before)."""
    from latbench.timing import measure_adaptive

    sampler = LoadedSampler(call_ms=2.0, slowdown=5.0)
    config = TimingConfig(warmup_ms=50, budget_ms=400, target_rel_ci=1e-9, min_samples=10**6)
    m = measure_adaptive(lambda: None, sampler, config)
    assert m.n >= 10 and m.median_ms == 2.0
    assert sampler.wall_ns / 1e6 <= config.warmup_ms + config.budget_ms + 2 * 10.0
