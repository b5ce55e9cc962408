"""Deployment validation: export a chosen architecture to ONNX, time it under PyTorch, ONNX
Runtime and TensorRT, and compare latency and throughput with the prediction and the budget."""
