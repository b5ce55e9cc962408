"""NVML handles: matched by UUID; by index only where NVML and CUDA number the GPUs alike."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest
import torch

from latbench import device as device_module
from latbench.device import gpu_throttle, nvml_handle


class FakeNvml:
    """Two GPUs that NVML numbers by PCI bus id; no UUID known (e.g. MIG, an old driver)."""

    def __init__(self, count: int = 2):
        self.count = count

    def nvmlDeviceGetHandleByUUID(self, uuid):  # noqa: N802 - NVML's name
        raise RuntimeError("NVML_ERROR_NOT_FOUND")

    def nvmlDeviceGetCount(self):  # noqa: N802
        return self.count

    def nvmlDeviceGetHandleByIndex(self, index):  # noqa: N802
        return f"nvml-{index}"


@pytest.fixture
def one_cuda_device(monkeypatch):
    props = SimpleNamespace(uuid="0000-ffff")
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: props)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)


def test_no_index_guess_where_nvml_and_cuda_may_order_gpus_differently(
    one_cuda_device, monkeypatch
):
    dev = torch.device("cuda", 1)
    assert nvml_handle(FakeNvml(), dev) is None  # CUDA: fastest first; NVML: PCI bus id
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    assert nvml_handle(FakeNvml(), dev) == "nvml-1"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")  # cuda:0 is NVML's 1: no guess
    assert nvml_handle(FakeNvml(), torch.device("cuda", 0)) is None
    assert nvml_handle(FakeNvml(count=1), torch.device("cuda")) == "nvml-0"  # one GPU


def test_no_handle_means_no_throttle_reading(one_cuda_device, monkeypatch):
    class Nvml(FakeNvml):
        def nvmlDeviceGetCurrentClocksEventReasons(self, handle):  # noqa: N802
            raise AssertionError("read another GPU's clocks")

    monkeypatch.setattr(device_module, "nvml", lambda: contextlib.nullcontext(Nvml()))
    assert gpu_throttle(torch.device("cuda", 1)) == ([], {})


def test_throttling_between_two_readings_is_named_with_its_time(one_cuda_device, monkeypatch):
    """Throttle reasons are looked at twice; NVML's violation counters cover the whole run."""

    class Nvml(FakeNvml):
        held = {0: 5_000_000, 1: 0, 3: 0, 5: 0}

        def nvmlDeviceGetHandleByUUID(self, uuid):  # noqa: N802
            return "h"

        def nvmlDeviceGetViolationStatus(self, handle, policy):  # noqa: N802
            if policy == 5:
                raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
            return SimpleNamespace(referenceTime=0, violationTime=self.held[policy])

    monkeypatch.setattr(device_module, "nvml", lambda: contextlib.nullcontext(Nvml()))
    dev = torch.device("cuda", 0)
    before = gpu_throttle(dev)[1]
    assert before == {"power": 5_000_000, "thermal": 0, "board limit": 0}
    Nvml.held = {0: 17_300_000, 1: 400_000, 3: 0, 5: 0}
    after = gpu_throttle(dev)[1]
    assert device_module.throttled_between(before, after) == "power 12.3 ms, thermal 0.4 ms"
    assert device_module.throttled_between(after, after) == ""
