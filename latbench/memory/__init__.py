"""Training-time memory: measure it (CPU RSS, GPU allocator and NVML in a fresh process),
trace it without a GPU (fake/meta tensors) and replay the trace through a model of PyTorch's
CUDA caching allocator."""

from latbench.memory.allocator import replay_allocator, replay_live
from latbench.memory.steps import TrainConfig
from latbench.memory.trace import trace_inference, trace_training
from latbench.memory.workspace import cpu_conv_workspace

__all__ = [
    "TrainConfig",
    "cpu_conv_workspace",
    "replay_allocator",
    "replay_live",
    "trace_inference",
    "trace_training",
]
