"""What this machine offers for the GPU paths, and a short timing config for tests."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from latbench.timing import TimingConfig

QUICK = TimingConfig(warmup_ms=5, budget_ms=60, min_samples=5, min_sample_ms=0.2)
HAS_CUDA = torch.cuda.is_available()
HAS_TRT = importlib.util.find_spec("tensorrt") is not None


def ort_has(provider: str) -> bool:
    try:
        import onnxruntime
    except ImportError:
        return False
    return provider in onnxruntime.get_available_providers()


needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
needs_ort_cuda = pytest.mark.skipif(
    not (HAS_CUDA and ort_has("CUDAExecutionProvider")),
    reason="needs a GPU and onnxruntime-gpu (CUDA EP)",
)
needs_ort_trt = pytest.mark.skipif(
    not (HAS_CUDA and ort_has("TensorrtExecutionProvider")),
    reason="needs a GPU and onnxruntime-gpu with the TensorRT EP",
)
needs_trt = pytest.mark.skipif(not (HAS_CUDA and HAS_TRT), reason="needs a GPU and tensorrt")
