"""Training-time memory: measure it (CPU RSS, GPU allocator and NVML in a fresh process),
trace it without a GPU (meta tensors) and replay the trace through a model of PyTorch's
CUDA caching allocator."""
