"""Kernel workspaces: memory an op's kernel allocates and frees inside one call, invisible to
the dispatch-level trace, so added as an allocation and a free right after the op's outputs.

- ``cpu_conv_workspace``: PyTorch's CPU ``slow_conv3d`` (3D convs oneDNN does not take) unfolds
  its input into a column buffer of (C_in/groups · prod(kernel)) x prod(output size) per sample,
  for the whole batch; forward and backward hold one at a time. Other CPU backends (oneDNN,
  thnn 2D) are taken as workspace-free.
- GPU (cuDNN / cuBLAS) workspaces depend on cuDNN's algorithm: calibrated per device from
  measurements (``latbench.predictors.memory``), not modelled per op.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import torch

WorkspaceFn = Callable[[Any, tuple[Any, ...], Any], int]
_CONV = torch.ops.aten.convolution.default
_CONV_BACKWARD = torch.ops.aten.convolution_backward.default


def no_workspace(func: Any, args: tuple[Any, ...], out: Any) -> int:
    """No kernel workspace (the trace alone)."""
    return 0


@functools.lru_cache(maxsize=4096)
def _cpu_backend(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
) -> str:
    """The backend PyTorch picks on this CPU for a (non-transposed) convolution, by name."""
    x, w = torch.empty(x_shape), torch.empty(w_shape)  # never touched: address space only
    conv = (list(stride), list(padding), list(dilation), False, [0] * len(stride), groups)
    return str(torch._C._select_conv_backend(x, w, None, *conv, None)).rsplit(".", 1)[-1]


def cpu_conv_workspace(func: Any, args: tuple[Any, ...], out: Any) -> int:
    """The column buffer of CPU ``slow_conv3d`` (one at a time, in forward and in backward);
    0 for other ops."""
    if func is _CONV:
        x, w, _b, stride, padding, dilation, transposed, _op, groups = args
        result = out
    elif func is _CONV_BACKWARD:
        result, x, w = args[0], args[1], args[2]
        stride, padding, dilation, transposed, _op, groups = args[4:10]
    else:
        return 0
    if x.dim() != 5 or transposed:
        return 0
    key = (tuple(x.shape), tuple(w.shape), tuple(stride), tuple(padding), tuple(dilation))
    if _cpu_backend(*key, int(groups)) != "Slow3d":
        return 0
    if all(k == 1 for k in w.shape[2:]) and all(s == 1 for s in stride) and not any(padding):
        return 0  # a pointwise convolution needs no unfolding
    columns = math.prod(w.shape[1:]) * math.prod(result.shape[2:])  # (C_in/groups·k³) x out
    return x.shape[0] * columns * x.element_size()


WORKSPACES: dict[str, WorkspaceFn] = {"none": no_workspace, "cpu": cpu_conv_workspace}
