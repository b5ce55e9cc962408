"""Real timers: CPU on a real op, CUDA events where a GPU is present."""

from __future__ import annotations

import pytest
import torch

from latbench.errors import MeasurementError
from latbench.opspec import OpSpec
from latbench.timed import op_callable
from latbench.timing import CpuTimer, TimingConfig, make_timer, torch_threads

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_cpu_timer_times_a_real_conv_and_restores_threads():
    spec = OpSpec.make("conv", (1, 16, 32, 32), kernel=3)
    before = torch.get_num_threads()
    m = make_timer("cpu", TimingConfig(warmup_ms=5, budget_ms=100), threads=1).measure(
        op_callable(spec, "cpu")
    )
    assert torch.get_num_threads() == before
    assert 0.001 < m.median_ms < 100
    assert m.timer == "cpu-thread_time_ns"  # one thread: per-thread CPU time by default


def test_torch_threads_context_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads(1) as n:
        assert n == 1 == torch.get_num_threads()
    assert torch.get_num_threads() == before


def test_describe_names_threads_and_budgets():
    d = CpuTimer(TimingConfig(budget_ms=123), threads=1).describe()
    assert d["threads"] == 1 and d["budget_ms"] == 123


@pytest.mark.parametrize("device", ["tpu", "cuda:x", ""])
def test_unknown_device_is_a_clear_error(device):
    with pytest.raises(MeasurementError, match="no timer for device"):
        make_timer(device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="only meaningful without CUDA")
def test_cuda_timer_without_cuda_says_why():
    with pytest.raises(MeasurementError, match="is_available"):
        make_timer("cuda:0")


@cuda
@pytest.mark.cuda
def test_cuda_event_timer_times_a_conv():
    spec = OpSpec.make("conv", (8, 64, 56, 56), kernel=3)
    m = make_timer("cuda", TimingConfig(warmup_ms=10, budget_ms=200)).measure(
        op_callable(spec, "cuda")
    )
    assert m.timer == "cuda-event" and 0 < m.median_ms < 100


@cuda
@pytest.mark.cuda
def test_cuda_graph_and_l2_flush_variants_run():
    spec = OpSpec.make("conv", (1, 16, 32, 32), kernel=3)
    fn = op_callable(spec, "cuda")
    graph = make_timer("cuda", TimingConfig(budget_ms=50), cuda_graph=True).measure(fn)
    flushed = make_timer("cuda", TimingConfig(budget_ms=50), l2_flush=True).measure(fn)
    assert graph.timer == "cuda-event+graph" and graph.median_ms > 0
    assert flushed.median_ms > 0
