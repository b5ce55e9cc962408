"""Training-time memory: measure it (CPU RSS, GPU allocator and NVML in a fresh process),
trace it without a GPU (fake/meta tensors) and replay the trace through a model of PyTorch's
CUDA caching allocator."""

from latbench.memory.allocator import (
    AllocatorOOM,
    CachingAllocatorSim,
    ReplayResult,
    replay_allocator,
    replay_live,
)
from latbench.memory.steps import TrainConfig, as_training_architecture
from latbench.memory.trace import MemoryTrace, trace_inference, trace_training
from latbench.memory.workspace import cpu_conv_workspace, no_workspace
from latbench.tables.schema import MEMORY

__all__ = [
    "MEMORY",
    "AllocatorOOM",
    "CachingAllocatorSim",
    "MemoryTrace",
    "ReplayResult",
    "TrainConfig",
    "as_training_architecture",
    "cpu_conv_workspace",
    "no_workspace",
    "replay_allocator",
    "replay_live",
    "trace_inference",
    "trace_training",
]
