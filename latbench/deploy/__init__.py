"""Deployment validation: export a chosen architecture to ONNX, time it under PyTorch, ONNX
Runtime and TensorRT, and compare latency and throughput with the prediction and the budget."""

from latbench.deploy.export import DEFAULT_OPSET, ExportedModel, ExportError, export_onnx
from latbench.deploy.protocols import (
    RTDNAS_BUDGET_MS,
    RTDNAS_MIN_FPS,
    BudgetCheck,
    FrameTiming,
    check_budget,
    throughput_fps,
)
from latbench.deploy.runners import BACKENDS, RunInfo, Runner, make_runner

__all__ = [
    "BACKENDS",
    "DEFAULT_OPSET",
    "RTDNAS_BUDGET_MS",
    "RTDNAS_MIN_FPS",
    "BudgetCheck",
    "ExportError",
    "ExportedModel",
    "FrameTiming",
    "RunInfo",
    "Runner",
    "check_budget",
    "export_onnx",
    "make_runner",
    "throughput_fps",
]
