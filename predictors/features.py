"""Feature vectors of OpSpecs for the learned predictors (log scale: latency is multiplicative).

Analytic features come from ``OpSpec.features()`` (FLOPs, parameters, bytes moved, element
counts); structural ones from the hyper-parameters (kernel volume, dilation, groups, stride)
and the input shape (batch, channels, spatial volume, number of spatial dims).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from latbench.opspec import OpSpec

FEATURE_NAMES = (
    "log_flops",
    "log_bytes",
    "log_params",
    "log_input_elems",
    "log_output_elems",
    "log_kernel_volume",
    "log_dilation",
    "log_groups",
    "log_stride",
    "log_batch",
    "log_channels",
    "log_spatial",
    "spatial_dims",
)
FLOPS_ONLY = ("log_flops",)


def _prod_param(spec: OpSpec, name: str) -> float:
    value = spec.p.get(name, 1)
    if value is None:
        return 1.0
    if isinstance(value, (tuple, list)):
        return float(math.prod(int(v) for v in value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        dims = max(1, len(spec.input_shape) - 2) if name in ("kernel", "stride") else 1
        return float(value) ** dims
    return 1.0


def spec_features(spec: OpSpec) -> dict[str, float]:
    """One OpSpec's named features (see ``FEATURE_NAMES``)."""
    f = spec.features()
    shape = spec.input_shape
    spatial = float(math.prod(shape[2:])) if len(shape) > 2 else 1.0
    return {
        "log_flops": math.log1p(f["flops"]),
        "log_bytes": math.log1p(f["bytes_read"] + f["bytes_written"]),
        "log_params": math.log1p(f["params"]),
        "log_input_elems": math.log1p(f["input_elems"]),
        "log_output_elems": math.log1p(f["output_elems"]),
        "log_kernel_volume": math.log(_prod_param(spec, "kernel")),
        "log_dilation": math.log(_prod_param(spec, "dilation")),
        "log_groups": math.log(_prod_param(spec, "groups")),
        "log_stride": math.log(_prod_param(spec, "stride")),
        "log_batch": math.log(shape[0]),
        "log_channels": math.log(shape[1]) if len(shape) > 1 else 0.0,
        "log_spatial": math.log(spatial),
        "spatial_dims": float(len(shape) - 2),
    }


def feature_matrix(specs: Sequence[OpSpec], names: Sequence[str] = FEATURE_NAMES) -> np.ndarray:
    """``(len(specs), len(names))`` float64 matrix of ``spec_features``."""
    rows = [spec_features(s) for s in specs]
    return np.array([[r[n] for n in names] for r in rows], dtype=np.float64).reshape(
        len(rows), len(names)
    )
