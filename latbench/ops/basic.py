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

CONV_PARAMS = P.declare(
    out=(None, P.channels()),  # None: as many output channels as input channels
    kernel=(3, P.per_dim()),
    stride=(1, P.per_dim()),
    dilation=(1, P.per_dim()),
    groups=(1, P.integer()),
    bias=(False, P.boolean()),
    norm=("none", P.choice(*NORMS)),
    act=("none", P.choice(*ACTS)),
    act_first=(False, P.boolean()),  # True: ReLU-Conv-Norm (DARTS / NAS-Bench-201 order)
)


def torch_layer(name: str, dims: int) -> Any:
    """The ``torch.nn`` class ``name`` for ``dims`` spatial dimensions (``Conv`` 3 ->
    ``nn.Conv3d``)."""
    return getattr(nn, f"{name}{dims}d")


def _as_tuple(value: int | tuple[int, ...], dims: int) -> tuple[int, ...]:
    return value if isinstance(value, tuple) else (value,) * dims


def _conv_groups(shape: tuple[int, ...], p: dict[str, Any]) -> None:
    cin = shape[1]
    cout = cin if p["out"] is None else p["out"]
    if cin % p["groups"] or cout % p["groups"]:
        raise ValueError(f"groups={p['groups']} must divide in={cin} and out={cout}")


def _sepconv_groups(shape: tuple[int, ...], p: dict[str, Any]) -> None:
    if p["groups"] != 1:
        raise ValueError("groups is fixed by the op (depth-wise); leave groups=1")


def _pool_stride(shape: tuple[int, ...], p: dict[str, Any]) -> None:
    """Stride = kernel is written None; an even kernel with stride 1 is refused (its k//2
    padding grows the map by one). A kernel wider than the input fails when run."""
    if p["stride"] == p["kernel"]:
        p["stride"] = None
    dims = len(shape) - 2
    stride = _as_tuple(p["kernel"] if p["stride"] is None else p["stride"], dims)
    if all(s == 1 for s in stride) and any(k % 2 == 0 for k in _as_tuple(p["kernel"], dims)):
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
    return _as_tuple(spec.p[name], spatial_dims(spec))


def out_channels(spec: OpSpec) -> int:
    out = spec.p.get("out")
    return spec.input_shape[1] if out is None else int(out)


def make_norm(norm: str, dims: int, channels: int, affine: bool = True) -> nn.Module:
    """BatchNorm, InstanceNorm (``affine`` weights) or nothing, for ``dims`` spatial dims."""
    if norm == "bn":
        return torch_layer("BatchNorm", dims)(channels)
    if norm == "in":
        return torch_layer("InstanceNorm", dims)(channels, affine=affine)
    return nn.Identity()


def wrap_norm_act(spec: OpSpec, core: list[nn.Module], channels: int) -> nn.Module:
    """``core`` followed by the spec's norm and activation (or preceded by ReLU if act_first)."""
    layers = list(core)
    if spec.p["norm"] != "none":
        layers.append(make_norm(spec.p["norm"], spatial_dims(spec), channels))
    if spec.p["act"] == "relu":
        if spec.p["act_first"]:
            layers.insert(0, nn.ReLU(inplace=False))
        else:
            layers.append(nn.ReLU(inplace=True))
    return layers[0] if len(layers) == 1 else nn.Sequential(*layers)


def _same_conv(spec: OpSpec, cout: int, groups: int, bias: bool) -> nn.Module:
    """The spec's (strided, dilated) conv from its input channels, 'same' padding."""
    kernel, dilation = per_dim(spec, "kernel"), per_dim(spec, "dilation")
    return torch_layer("Conv", spatial_dims(spec))(
        spec.input_shape[1],
        cout,
        kernel,
        stride=per_dim(spec, "stride"),
        padding=tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation)),
        dilation=dilation,
        groups=groups,
        bias=bias,
    )


@register_op("conv", check=_conv_groups, **CONV_PARAMS)
def build_conv(spec: OpSpec) -> nn.Module:
    """Convolution over 1/2/3 spatial dims (from the input rank), 'same' padding, dilation,
    groups and per-dimension kernels (CAKES sub-kernels, P3D, temporal 1D as (k,1,1))."""
    cout = out_channels(spec)
    return wrap_norm_act(spec, [_same_conv(spec, cout, spec.p["groups"], spec.p["bias"])], cout)


@register_op("sepconv", check=_sepconv_groups, **CONV_PARAMS)
def build_sepconv(spec: OpSpec) -> nn.Module:
    """Depth-separable convolution: depth-wise k (dilated) then point-wise 1, then norm/act."""
    cin, cout = spec.input_shape[1], out_channels(spec)
    depthwise = _same_conv(spec, cin, groups=cin, bias=False)
    pointwise = torch_layer("Conv", spatial_dims(spec))(cin, cout, 1, bias=spec.p["bias"])
    return wrap_norm_act(spec, [depthwise, pointwise], cout)


@register_op(
    "pool",
    check=_pool_stride,
    **P.declare(
        reduce=("max", P.choice("max", "avg")),
        kernel=(2, P.per_dim()),
        stride=(None, P.optional(P.per_dim())),
    ),
)
def build_pool(spec: OpSpec) -> nn.Module:
    """Max or average pooling; stride defaults to the kernel (×k down-sampling), stride 1
    keeps the size ('same' padding, NAS-Bench-201's avg_pool_3x3)."""
    kernel = per_dim(spec, "kernel")
    stride = kernel if spec.p["stride"] is None else per_dim(spec, "stride")
    padding = tuple(k // 2 for k in kernel) if all(s == 1 for s in stride) else 0
    if spec.p["reduce"] == "max":
        return torch_layer("MaxPool", spatial_dims(spec))(kernel, stride=stride, padding=padding)
    return torch_layer("AvgPool", spatial_dims(spec))(
        kernel, stride=stride, padding=padding, count_include_pad=False
    )


@register_op(
    "upsample",
    **P.declare(
        scale=(2, P.positive_number(64.0)), interp=("linear", P.choice("linear", "nearest"))
    ),
)
def build_upsample(spec: OpSpec) -> nn.Module:
    """Up-sampling by ``scale``; interp 'linear' means (bi/tri)linear for the input's rank."""
    scale = float(spec.p["scale"])
    if spec.p["interp"] == "nearest":
        return nn.Upsample(scale_factor=scale, mode="nearest")
    mode = ("linear", "bilinear", "trilinear")[spatial_dims(spec) - 1]
    return nn.Upsample(scale_factor=scale, mode=mode, align_corners=False)


@register_op("identity", ranks=(2, 3, 4, 5))
def build_identity(spec: OpSpec) -> nn.Module:
    """Identity / skip connection (costs a kernel launch only if the runtime copies)."""
    return nn.Identity()


@register_op("zero", ranks=(2, 3, 4, 5))
class Zero(nn.Module):
    """The 'none' op of NAS-Bench-201 / DARTS: an all-zero output of the input's shape."""

    def __init__(self, spec: OpSpec):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


@register_op("norm_act", **P.declare(norm=("bn", P.choice(*NORMS)), act=("relu", P.choice(*ACTS))))
def build_norm_act(spec: OpSpec) -> nn.Module:
    """A stand-alone normalisation followed by an activation (e.g. a network's last BN-ReLU)."""
    norm = make_norm(spec.p["norm"], spatial_dims(spec), spec.input_shape[1], affine=False)
    return nn.Sequential(norm, nn.ReLU()) if spec.p["act"] == "relu" else norm


@register_op("global_pool")
class GlobalPool(nn.Module):
    """Global average pooling over all spatial dims: N,C,... -> N,C."""

    def __init__(self, spec: OpSpec):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=tuple(range(2, x.dim())))


@register_op("linear", defaults={"out": REQUIRED}, ranks=(2,), params={"out": P.integer()})
def build_linear(spec: OpSpec) -> nn.Module:
    """Fully-connected layer on an N,C input (a classifier head)."""
    return nn.Linear(spec.input_shape[1], int(spec.p["out"]))
