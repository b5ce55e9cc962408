"""Composite blocks the papers use as one unit: MobileNet-v2 inverted residual, DiNTS' P3D
and factorized reduction, the dynamic cells' global-pooling branch."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from latbench.ops import params as P
from latbench.ops.basic import _BN, _CONV, _IN, NORMS, out_channels, spatial_dims
from latbench.ops.registry import REQUIRED, register_op
from latbench.opspec import OpSpec


def make_norm(norm: str, dims: int, channels: int) -> nn.Module:
    """BatchNorm, affine InstanceNorm or nothing, for ``dims`` spatial dimensions."""
    if norm == "bn":
        return _BN[dims](channels)
    if norm == "in":
        return _IN[dims](channels, affine=True)
    return nn.Identity()


class InvertedResidual(nn.Module):
    """MobileNet-v2 block: [1×1 expand-BN-ReLU6] -> k×k depth-wise-BN-ReLU6 -> 1×1 project-BN."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int, kernel: int):
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [
            nn.Conv2d(hidden, hidden, kernel, stride, kernel // 2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


@register_op(
    "mbv2_block",
    defaults={"out": REQUIRED, "stride": 1, "expand": 6, "kernel": 3},
    ranks=(4,),
    params={"out": P.integer(), "stride": P.choice(1, 2), "expand": P.integer(), "kernel": P.odd()},
)
def build_mbv2_block(spec: OpSpec) -> nn.Module:
    """MobileNet-v2 inverted residual: expand 1×1, depth-wise k×k (stride), project 1×1.

    The identity shortcut is added when stride is 1 and the channels are kept."""
    stride, expand, kernel = (int(spec.p[k]) for k in ("stride", "expand", "kernel"))
    return InvertedResidual(spec.input_shape[1], out_channels(spec), stride, expand, kernel)


def _p3d_kernels(spec: OpSpec) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The 2D-plane kernel as given (checked by ``_p3d_kernel``) and its complementary 1D
    kernel, e.g. (3,3,1) -> (1,1,3)."""
    kernel = spec.p["kernel"]
    size = max(kernel)
    return kernel, tuple(size if k == 1 else 1 for k in kernel)


def _p3d_kernel(value, shape):  # noqa: ANN001, ANN202
    ok = (
        isinstance(value, tuple)
        and len(value) == 3
        and value.count(1) == 1
        and all(
            isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= P.MAX_EXTENT for k in value
        )
    )
    if not ok:
        raise ValueError("3 ints with exactly one 1, e.g. (3, 3, 1), (3, 1, 3) or (1, 3, 3)")
    return value


@register_op(
    "p3d",
    defaults={"out": None, "kernel": (3, 3, 1), "norm": "in"},
    ranks=(5,),
    params={"out": P.channels(P.in_channels), "kernel": _p3d_kernel, "norm": P.choice(*NORMS)},
)
def build_p3d(spec: OpSpec) -> nn.Module:
    """DiNTS pseudo-3D op: ReLU, 2D-plane conv, complementary 1D conv, norm.

    ``kernel`` (3, 3, 1) gives a 3×3×1 conv then a 1×1×3 conv; 'same' padding."""
    plane, line = _p3d_kernels(spec)
    cin, cout = spec.input_shape[1], out_channels(spec)
    norm = spec.p["norm"]

    def pad(k):
        return tuple(x // 2 for x in k)

    return nn.Sequential(
        nn.ReLU(),
        nn.Conv3d(cin, cout, plane, padding=pad(plane), bias=False),
        nn.Conv3d(cout, cout, line, padding=pad(line), bias=False),
        make_norm(norm, 3, cout),
    )


class FactorizedReduce(nn.Module):
    """ReLU, two stride-2 1×1 convs (the second on the input shifted by one), concat, norm."""

    def __init__(self, dims: int, cin: int, cout: int, norm: str):
        super().__init__()
        self.act = nn.ReLU()
        self.conv_a = _CONV[dims](cin, cout // 2, 1, stride=2, bias=False)
        self.conv_b = _CONV[dims](cin, cout - cout // 2, 1, stride=2, bias=False)
        self.norm = make_norm(norm, dims, cout)
        self.shift = (slice(None), slice(None)) + (slice(1, None),) * dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(x)
        return self.norm(torch.cat([self.conv_a(x), self.conv_b(x[self.shift])], dim=1))


def _even_sizes(shape: tuple[int, ...], p: dict) -> None:
    if any(s % 2 for s in shape[2:]):
        raise ValueError(f"spatial sizes {shape[2:]} must all be even")
    if (shape[1] if p["out"] is None else p["out"]) < 2:
        raise ValueError("out must be >= 2 (two halves)")


@register_op(
    "factorized_reduce",
    defaults={"out": None, "norm": "bn"},
    ranks=(4, 5),
    params={"out": P.channels(P.in_channels), "norm": P.choice(*NORMS)},
    check=_even_sizes,
)
def build_factorized_reduce(spec: OpSpec) -> nn.Module:
    """DARTS / DiNTS ×2 down-sampling: ReLU, two shifted stride-2 1×1 convs, concat, norm.

    Spatial sizes must be even."""
    norm = spec.p["norm"]
    dims = spatial_dims(spec)
    return FactorizedReduce(dims, spec.input_shape[1], out_channels(spec), norm)


class GapConvUpsample(nn.Module):
    """Global average pooling, 1×1 conv + ReLU on the pooled vector, bilinear back to H×W."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.act(self.conv(x.mean(dim=(2, 3), keepdim=True)))
        return F.interpolate(pooled, size=x.shape[2:], mode="bilinear", align_corners=False)


@register_op(
    "gap_upsample_conv",
    defaults={"out": None},
    ranks=(4,),
    params={"out": P.channels(P.in_channels)},
)
def build_gap_upsample_conv(spec: OpSpec) -> nn.Module:
    """Dynamic-cell op 1: global average pooling, 1×1 conv, bilinear back to the input size.

    The conv (+ReLU) runs on the pooled 1×1 map; no norm, which a 1×1 map cannot train with."""
    return GapConvUpsample(spec.input_shape[1], out_channels(spec))
