"""GPU memory bookkeeping with a seeded fake NVML; the real path only where CUDA exists."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

from latbench.memory.gpu import NvmlSampler, nvml_process_bytes

Proc = namedtuple("Proc", "pid usedGpuMemory")
MemInfo = namedtuple("MemInfo", "total free used")
NOT_AVAILABLE = 2**64 - 1  # NVML_VALUE_NOT_AVAILABLE as pynvml returns it


class FakeNvml:
    """Per-process usage that grows by a seeded random amount on every query."""

    def __init__(self, pid: int, seed: int = 0, hidden: bool = False):
        self.pid, self.hidden = pid, hidden
        self.rng = np.random.default_rng(seed)
        self.used = 500 * 2**20
        self.history: list[int] = []

    def nvmlDeviceGetComputeRunningProcesses(self, handle):  # noqa: N802 - NVML's name
        self.used += int(self.rng.integers(0, 64)) * 2**20
        self.history.append(self.used)
        mine = Proc(self.pid, None if self.hidden else self.used)
        return [Proc(self.pid + 1, 7 * 2**30), mine, Proc(self.pid + 2, NOT_AVAILABLE)]

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle):  # noqa: N802
        raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")

    def nvmlDeviceGetMemoryInfo(self, handle):  # noqa: N802
        return MemInfo(80 * 2**30, 0, self.used + 7 * 2**30)


def test_process_memory_is_matched_by_pid_and_other_processes_ignored():
    nv = FakeNvml(pid=4242)
    assert nvml_process_bytes(nv, "h", 4242) == nv.history[-1]
    assert nvml_process_bytes(nv, "h", 1) is None  # not listed (e.g. another pid namespace)
    assert nvml_process_bytes(FakeNvml(4242, hidden=True), "h", 4242) is None
    assert NvmlSampler(nv, "h", 4242).read()[1] == nv.used + 7 * 2**30


def test_sampler_keeps_the_maximum_over_samples():
    nv = FakeNvml(pid=7, seed=3)
    sampler = NvmlSampler(nv, "h", 7)
    for _ in range(5):
        sampler.sample()
    assert sampler.process_peak == max(nv.history) and sampler.device_peak > sampler.process_peak
    assert NvmlSampler(None, None, 7).read() == (None, None)


@pytest.mark.cuda
def test_real_gpu_measurement_of_a_small_3d_net():
    from latbench.memory.steps import TrainConfig
    from latbench.memory.table import measure_memory
    from latbench.opspec import OpSpec

    spec = OpSpec.make("conv", (1, 16, 32, 32, 32), norm="in", act="relu")
    row = measure_memory(spec, "cuda", TrainConfig())
    assert row["status"] == "ok", row
    assert 0 < row["peak_allocated_mib"] <= row["peak_reserved_mib"]
    assert row["infer_peak_allocated_mib"] <= row["peak_allocated_mib"]
