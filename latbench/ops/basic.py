"""Convolutions (1D/2D/3D, dilated, grouped, depth-separable), pooling, resampling, identity."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from latbench.ops import params as P
from latbench.ops.registry import REQUIRED, register_op
from latbench.opspec import OpSpec

NORMS = ("none", "bn", "in")
ACTS = ("none", "relu")

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_IN = {1: nn.InstanceNorm1d, 2: nn.InstanceNorm2d, 3: nn.InstanceNorm3d}
_MAXPOOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
_AVGPOOL = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}

CONV_DEFAULTS: dict[str, Any] = {
    "out": None,  # None: as many output channels as input channels
    "kernel": 3,
    "stride": 1,
    "dilation": 1,
    "groups": 1,
    "bias": False,
    "norm": "none",
    "act": "none",
    "act_first": False,  # True: ReLU-Conv-Norm (DARTS / NAS-Bench-201 order)
}

CONV_PARAMS: dict[str, P.Checker] = {
    "out": P.channels(P.in_channels),
    "kernel": P.per_dim(),
    "stride": P.per_dim(),
    "dilation": P.per_dim(),
    "groups": P.integer(),
    "bias": P.boolean(),
    "norm": P.choice(*NORMS),
    "act": P.choice(*ACTS),
    "act_first": P.boolean(),
}


def _conv_groups(shape: tuple[int, ...], p: dict[str, Any]) -> None:
    cin = shape[1]
    cout = cin if p["out"] is None else p["out"]
    if cin % p["groups"] or cout % p["groups"]:
        raise ValueError(f"groups={p['groups']} must divide in={cin} and out={cout}")


def _sepconv_groups(shape: tuple[int, ...], p: dict[str, Any]) -> None:
    if p["groups"] != 1:
        raise ValueError("groups is fixed by the op (depth-wise); leave groups=1")


def _pool_stride(shape: tuple[int, ...], p: dict[str, Any]) -> None:
    """Stride = kernel is the default (None). Refused: a stride-1 pool with an even kernel (its
    k//2 padding grows the map by one: not the 'same' pooling stride 1 means). A kernel wider
    than the input fails when run, and is recorded as that op's error."""
    if p["stride"] == p["kernel"]:  # the default: stride = kernel
        p["stride"] = None
    dims = len(shape) - 2
    kernel = p["kernel"] if isinstance(p["kernel"], tuple) else (p["kernel"],) * dims
    stride = (
        kernel
        if p["stride"] is None
        else (p["stride"] if isinstance(p["stride"], tuple) else (p["stride"],) * dims)
    )
    if all(st == 1 for st in stride) and any(k % 2 == 0 for k in kernel):
        raise ValueError(
            f"kernel={p['kernel']} with stride 1: an even kernel's padding "
            "grows the map by one; use an odd kernel for same-size pooling, "
            "or a stride"
        )


def spatial_dims(spec: OpSpec) -> int:
    """Number of spatial/temporal dimensions of an N,C,... input."""
    return len(spec.input_shape) - 2


def per_dim(spec: OpSpec, name: str) -> tuple[int, ...]:
    """A hyper-parameter checked by ``params.per_dim`` (an int or one per dimension), as a
    tuple."""
    value = spec.p[name]
    return value if isinstance(value, tuple) else (value,) * spatial_dims(spec)


def _same_padding(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))


def out_channels(spec: OpSpec) -> int:
    out = spec.p.get("out")
    return spec.input_shape[1] if out is None else int(out)


def wrap_norm_act(spec: OpSpec, core: list[nn.Module], channels: int) -> nn.Module:
    """``core`` followed by the spec's norm and activation (or preceded by ReLU if act_first)."""
    dims = spatial_dims(spec)
    norm = spec.p["norm"]
    act = spec.p["act"]
    layers = list(core)
    if norm == "bn":
        layers.append(_BN[dims](channels))
    elif norm == "in":
        layers.append(_IN[dims](channels, affine=True))
    if act == "relu":
        if spec.p["act_first"]:
            layers.insert(0, nn.ReLU(inplace=False))
        else:
            layers.append(nn.ReLU(inplace=True))
    return layers[0] if len(layers) == 1 else nn.Sequential(*layers)


@register_op("conv", defaults=CONV_DEFAULTS, params=CONV_PARAMS, check=_conv_groups)
def build_conv(spec: OpSpec) -> nn.Module:
    """Convolution over 1/2/3 spatial dims (from the input rank), 'same' padding, dilation,
    groups and per-dimension kernels (CAKES sub-kernels, P3D, temporal 1D as (k,1,1))."""
    dims, cin = spatial_dims(spec), spec.input_shape[1]
    kernel, dilation, stride = (
        per_dim(spec, "kernel"),
        per_dim(spec, "dilation"),
        per_dim(spec, "stride"),
    )
    cout, groups = out_channels(spec), int(spec.p["groups"])
    conv = _CONV[dims](
        cin,
        cout,
        kernel,
        stride=stride,
        padding=_same_padding(kernel, dilation),
        dilation=dilation,
        groups=groups,
        bias=bool(spec.p["bias"]),
    )
    return wrap_norm_act(spec, [conv], cout)


@register_op("sepconv", defaults=CONV_DEFAULTS, params=CONV_PARAMS, check=_sepconv_groups)
def build_sepconv(spec: OpSpec) -> nn.Module:
    """Depth-separable convolution: depth-wise k (dilated) then point-wise 1, then norm/act."""
    dims, cin = spatial_dims(spec), spec.input_shape[1]
    kernel, dilation, stride = (
        per_dim(spec, "kernel"),
        per_dim(spec, "dilation"),
        per_dim(spec, "stride"),
    )
    cout = out_channels(spec)
    depthwise = _CONV[dims](
        cin,
        cin,
        kernel,
        stride=stride,
        dilation=dilation,
        groups=cin,
        padding=_same_padding(kernel, dilation),
        bias=False,
    )
    pointwise = _CONV[dims](cin, cout, 1, bias=bool(spec.p["bias"]))
    return wrap_norm_act(spec, [depthwise, pointwise], cout)


@register_op(
    "pool",
    defaults={"reduce": "max", "kernel": 2, "stride": None},
    params={
        "reduce": P.choice("max", "avg"),
        "kernel": P.per_dim(),
        "stride": lambda v, shape: None if v is None else P.per_dim()(v, shape),
    },
    check=_pool_stride,
)
def build_pool(spec: OpSpec) -> nn.Module:
    """Max or average pooling; stride defaults to the kernel (×k down-sampling), stride 1
    keeps the size ('same' padding, NAS-Bench-201's avg_pool_3x3)."""
    dims = spatial_dims(spec)
    reduce = spec.p["reduce"]
    kernel = per_dim(spec, "kernel")
    stride = kernel if spec.p["stride"] is None else per_dim(spec, "stride")
    padding = tuple(k // 2 for k in kernel) if all(s == 1 for s in stride) else 0
    if reduce == "max":
        return _MAXPOOL[dims](kernel, stride=stride, padding=padding)
    return _AVGPOOL[dims](kernel, stride=stride, padding=padding, count_include_pad=False)


class Resample(nn.Module):
    """Interpolation by a scale factor (bilinear / trilinear / nearest)."""

    def __init__(self, scale: float, mode: str):
        super().__init__()
        self.scale, self.mode = scale, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        align = False if self.mode in ("linear", "bilinear", "trilinear") else None
        return nn.functional.interpolate(
            x, scale_factor=self.scale, mode=self.mode, align_corners=align
        )


_LINEAR_MODE = {1: "linear", 2: "bilinear", 3: "trilinear"}


@register_op(
    "upsample",
    defaults={"scale": 2, "interp": "linear"},
    params={"scale": P.positive_number(64.0), "interp": P.choice("linear", "nearest")},
)
def build_upsample(spec: OpSpec) -> nn.Module:
    """Up-sampling by ``scale``; interp 'linear' means (bi/tri)linear for the input's rank."""
    interp = spec.p["interp"]
    return Resample(
        float(spec.p["scale"]),
        _LINEAR_MODE[spatial_dims(spec)] if interp == "linear" else "nearest",
    )


@register_op("identity", ranks=(2, 3, 4, 5))
def build_identity(spec: OpSpec) -> nn.Module:
    """Identity / skip connection (costs a kernel launch only if the runtime copies)."""
    return nn.Identity()


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


@register_op("zero", ranks=(2, 3, 4, 5))
def build_zero(spec: OpSpec) -> nn.Module:
    """The 'none' op of NAS-Bench-201 / DARTS: an all-zero output of the input's shape."""
    return Zero()


@register_op(
    "norm_act",
    defaults={"norm": "bn", "act": "relu"},
    params={"norm": P.choice(*NORMS), "act": P.choice(*ACTS)},
)
def build_norm_act(spec: OpSpec) -> nn.Module:
    """A stand-alone normalisation followed by an activation (e.g. a network's last BN-ReLU)."""
    dims, channels = spatial_dims(spec), spec.input_shape[1]
    norm = spec.p["norm"]
    act = spec.p["act"]
    layers: list[nn.Module] = []
    if norm != "none":
        layers.append((_BN if norm == "bn" else _IN)[dims](channels))
    if act == "relu":
        layers.append(nn.ReLU())
    return nn.Sequential(*layers) if layers else nn.Identity()


class GlobalPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=tuple(range(2, x.dim())))


@register_op("global_pool")
def build_global_pool(spec: OpSpec) -> nn.Module:
    """Global average pooling over all spatial dims: N,C,... -> N,C."""
    return GlobalPool()


@register_op("linear", defaults={"out": REQUIRED}, ranks=(2,), params={"out": P.integer()})
def build_linear(spec: OpSpec) -> nn.Module:
    """Fully-connected layer on an N,C input (a classifier head)."""
    return nn.Linear(spec.input_shape[1], int(spec.p["out"]))
