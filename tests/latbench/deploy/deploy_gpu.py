"""What this machine offers for the GPU paths, and a short timing config for tests."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import TypeVar

import pytest

from latbench.timing import TimingConfig

QUICK = TimingConfig(warmup_ms=5, budget_ms=60, min_samples=5, min_sample_ms=0.2)
HAS_TRT = importlib.util.find_spec("tensorrt") is not None
T = TypeVar("T")


def ort_has(provider: str) -> bool:
    try:
        import onnxruntime
    except ImportError:
        return False
    return provider in onnxruntime.get_available_providers()


def _gpu_test(available: bool, reason: str) -> Callable[[T], T]:
    """Marked ``cuda`` (``gpu_check``'s ``pytest -m cuda`` runs it; tests/conftest.py skips it
    without CUDA) and skipped unless ``available``."""

    def mark(test: T) -> T:
        return pytest.mark.cuda(pytest.mark.skipif(not available, reason=reason)(test))

    return mark


needs_cuda = pytest.mark.cuda
needs_ort_cuda = _gpu_test(ort_has("CUDAExecutionProvider"), "needs onnxruntime-gpu (CUDA EP)")
needs_ort_trt = _gpu_test(
    ort_has("TensorrtExecutionProvider"), "needs onnxruntime-gpu with the TensorRT EP"
)
needs_trt = _gpu_test(HAS_TRT, "needs tensorrt")
