"""Analytic features of an OpSpec (FLOPs, parameters, bytes moved, output size): one run on the
``meta`` device under ``FlopCounterMode`` (matmul/conv-like ops only; bytes read and written
carry the cost of pooling, resampling and norms)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

import torch
from torch.utils.flop_counter import FlopCounterMode

from latbench.errors import OpSpecError

if TYPE_CHECKING:
    from latbench.opspec import OpSpec

ANALYTIC_FEATURES = (
    "flops",
    "params",
    "input_elems",
    "output_elems",
    "bytes_read",
    "bytes_written",
    "arithmetic_intensity",
)


def numel(out: object) -> int:
    """Elements of every tensor in ``out`` (a tensor or nested tuples/lists of them)."""
    if isinstance(out, torch.Tensor):
        return out.numel()
    if isinstance(out, (tuple, list)):
        return sum(numel(o) for o in out)
    return 0


class _GlobalOnly(contextlib.nullcontext[None]):
    """Stands in for ``FlopCounterMode``'s module tracker, which registers autograd hooks on
    every module's inputs and fails under ``inference_mode`` on models that feed a parameter
    straight into an op (PiT, CaiT, TNT, SigLIP ViTs); FLOPs are counted under "Global" only."""

    parents = ("Global",)


def flop_counter() -> FlopCounterMode:
    """The FLOP counter of every latbench feature (multiply-add = 2 FLOPs), without per-module
    attribution (read ``get_flop_counts()["Global"]``)."""
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _GlobalOnly()  # type: ignore[assignment]  # duck-typed: no modules
    return counter


def op_features(spec: OpSpec) -> Mapping[str, float]:
    """The ``ANALYTIC_FEATURES`` of ``spec`` (forward only, on the ``meta`` device; cached).
    Raises ``OpSpecError`` (cached too) for an op that cannot run at this shape (e.g. a pooling
    kernel larger than the input)."""
    result = _features_or_error(spec)
    if isinstance(result, OpSpecError):
        raise OpSpecError(str(result)) from None  # a fresh one: no traceback piling up
    return result


@functools.lru_cache(maxsize=65536)
def _features_or_error(spec: OpSpec) -> Mapping[str, float] | OpSpecError:
    try:
        return _count_features(spec)
    except OpSpecError as exc:
        return OpSpecError(str(exc))


def _count_features(spec: OpSpec) -> Mapping[str, float]:
    counter = flop_counter()
    try:
        module = spec.build("meta")
        inputs = spec.example_inputs("meta")
        with counter, torch.no_grad():
            out = module(*inputs)
    except (RuntimeError, ValueError, OverflowError, IndexError, TypeError, AttributeError) as exc:
        # NotImplementedError is a RuntimeError; the last three: traced calls of users' code
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OpSpecError(f"{spec.key}: cannot run at this shape ({first})") from None
    n_params = sum(p.numel() for p in module.parameters())
    in_elems = sum(x.numel() for x in inputs)
    bytes_read = float((in_elems + n_params) * spec.torch_dtype.itemsize)
    bytes_written = float(numel(out) * spec.torch_dtype.itemsize)
    flops = float(counter.get_total_flops())
    return MappingProxyType(
        {
            "flops": flops,
            "params": float(n_params),
            "input_elems": float(in_elems),
            "output_elems": float(numel(out)),
            "bytes_read": bytes_read,
            "bytes_written": bytes_written,
            "arithmetic_intensity": flops / max(1.0, bytes_read + bytes_written),
        }
    )


def output_shape(spec: OpSpec) -> tuple[int, ...]:
    """Shape of the op's (first) output, from a meta-device run."""
    with torch.no_grad():
        out = spec.build("meta")(*spec.example_inputs("meta"))
    return tuple((out[0] if isinstance(out, (tuple, list)) else out).shape)
