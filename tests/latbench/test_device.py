"""NVML handles: matched by UUID; by index only where NVML and CUDA number the GPUs alike."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest
import torch

from latbench import device as device_module
from latbench.device import gpu_throttle_reasons, nvml_handle


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
    assert gpu_throttle_reasons(torch.device("cuda", 1)) == []
