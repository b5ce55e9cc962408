"""The GPU math settings are part of every CUDA protocol (toggling
``cudnn.benchmark``, either ``allow_tf32`` or ``float32_matmul_precision`` left the protocol
id unchanged). Tested on the CPU: the timer's description needs no GPU once ``require_cuda``
is bypassed."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import latbench.timing.cuda as cuda_timing
from latbench.profile import protocol_of


@pytest.fixture
def cuda_timer(monkeypatch):
    monkeypatch.setattr(cuda_timing, "require_cuda", lambda device: torch.device("cuda", 0))
    return cuda_timing.CudaTimer("cuda:0")


@pytest.fixture
def restore_flags():
    saved = (
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.allow_tf32,
        torch.backends.cuda.matmul.allow_tf32,
        torch.get_float32_matmul_precision(),
    )
    yield
    (
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.allow_tf32,
        torch.backends.cuda.matmul.allow_tf32,
    ) = saved[:3]
    torch.set_float32_matmul_precision(saved[3])


def _set_benchmark(on: bool) -> None:
    torch.backends.cudnn.benchmark = on


def _set_cudnn_tf32(on: bool) -> None:
    torch.backends.cudnn.allow_tf32 = on


def _set_matmul_tf32(on: bool) -> None:
    torch.backends.cuda.matmul.allow_tf32 = on


def _set_precision(on: bool) -> None:
    torch.set_float32_matmul_precision("medium" if on else "highest")


@pytest.mark.parametrize(
    "toggle", [_set_benchmark, _set_cudnn_tf32, _set_matmul_tf32, _set_precision]
)
def test_each_gpu_math_flag_changes_the_protocol_id(toggle, cuda_timer, restore_flags):
    toggle(False)
    off, off_id = protocol_of(cuda_timer)
    toggle(True)
    on, on_id = protocol_of(cuda_timer)
    assert off_id != on_id and off["gpu_math"] != on["gpu_math"]


def test_the_protocol_names_the_settings(cuda_timer, restore_flags):
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    math = protocol_of(cuda_timer)[0]["gpu_math"]
    assert math["cudnn_benchmark"] is True and math["matmul_allow_tf32"] is True
    assert set(math) == {
        "cudnn_benchmark",
        "cudnn_deterministic",
        "cudnn_allow_tf32",
        "matmul_allow_tf32",
        "float32_matmul_precision",
    }


def test_tf32_set_through_the_new_api_is_recorded_not_a_crash():
    """torch refuses to read ``allow_tf32`` once ``fp32_precision`` was set (a mix of the two
    APIs); the protocol then records the new settings. A subprocess: the flag state is global."""
    code = (
        "import torch\n"
        "from latbench.timing.cuda import gpu_math_state\n"
        "torch.backends.cuda.matmul.fp32_precision = 'tf32'\n"
        "s = gpu_math_state()\n"
        "assert s['matmul_allow_tf32'] == 'tf32' and s['float32_matmul_precision'] == 'tf32', s\n"
        "assert s['cudnn_allow_tf32'] is True, s\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
