"""The CPU check in CI: the trace predicts a real training step's peak RSS growth."""

from __future__ import annotations

import sys

import pytest

from latbench.architecture import INPUT, Architecture, Edge
from latbench.memory.allocator import replay_live
from latbench.memory.cpu import MMAP_THRESHOLD_BYTES
from latbench.memory.steps import TrainConfig
from latbench.memory.table import measure_memory
from latbench.memory.trace import trace_training
from latbench.memory.workspace import cpu_conv_workspace
from latbench.opspec import OpSpec

MIB = 2**20


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS via /proc: Linux")
def test_trace_predicts_peak_rss_growth_of_a_large_activation_3d_net():
    op = OpSpec.make("conv", (1, 8, 32, 32, 32), norm="in", act="relu")
    arch = Architecture(
        "hand3d",
        tuple(Edge((INPUT if i == 0 else f"n{i}",), f"n{i + 1}", op) for i in range(3)),
        "n3",
    )
    config = TrainConfig(optimizer="sgd", steps=1)
    measured = measure_memory(arch, "cpu", config, threads=1)
    assert measured["status"] == "ok", measured
    trace = trace_training(arch, config, workspace=cpu_conv_workspace)
    predicted = replay_live(trace, min_bytes=MMAP_THRESHOLD_BYTES).growth_live_bytes / MIB
    error = predicted / measured["rss_growth_mib"] - 1
    assert abs(error) <= 0.15, (predicted, measured)
