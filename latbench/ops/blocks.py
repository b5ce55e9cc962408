"""Composite blocks the papers use as one unit: MobileNet-v2 inverted residual, DiNTS' P3D
and factorized reduction, the dynamic cells' global-pooling branch."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from latbench.ops import params as P
from latbench.ops.basic import NORMS, make_norm, out_channels, spatial_dims, torch_layer
from latbench.ops.mobilenetv3 import InvertedResidual
from latbench.ops.registry import REQUIRED, register_op
from latbench.opspec import OpSpec


@register_op(
    "mbv2_block",
    defaults={"out": REQUIRED, "stride": 1, "expand": 6, "kernel": 3},
    ranks=(4,),
    params={"out": P.integer(), "stride": P.choice(1, 2), "expand": P.integer(), "kernel": P.odd()},
)
def build_mbv2_block(spec: OpSpec) -> nn.Module:
    """MobileNet-v2 inverted residual: expand 1×1, depth-wise k×k (stride), project 1×1.

    ReLU6 activations; the identity shortcut is added when stride is 1 and the channels are
    kept."""
    p, cin = spec.p, spec.input_shape[1]
    mid = None if p["expand"] == 1 else cin * p["expand"]
    return InvertedResidual(cin, p["out"], mid, p["kernel"], p["stride"], "relu6", se=False)


def _p3d_kernel(value: object, shape: tuple[int, ...]) -> tuple[int, ...]:
    if not (
        isinstance(value, tuple)
        and len(value) == 3
        and value.count(1) == 1
        and all(type(k) is int and 1 <= k <= P.MAX_EXTENT for k in value)
    ):
        raise ValueError("3 ints with exactly one 1, e.g. (3, 3, 1), (3, 1, 3) or (1, 3, 3)")
    return value


@register_op(
    "p3d",
    ranks=(5,),
    **P.declare(
        out=(None, P.channels()), kernel=((3, 3, 1), _p3d_kernel), norm=("in", P.choice(*NORMS))
    ),
)
def build_p3d(spec: OpSpec) -> nn.Module:
    """DiNTS pseudo-3D op: ReLU, 2D-plane conv, complementary 1D conv, norm.

    ``kernel`` (3, 3, 1) gives a 3×3×1 conv then a 1×1×3 conv; 'same' padding."""
    plane = spec.p["kernel"]
    line = tuple(max(plane) if k == 1 else 1 for k in plane)
    cin, cout = spec.input_shape[1], out_channels(spec)
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv3d(cin, cout, plane, padding=tuple(k // 2 for k in plane), bias=False),
        nn.Conv3d(cout, cout, line, padding=tuple(k // 2 for k in line), bias=False),
        make_norm(spec.p["norm"], 3, cout),
    )


def _even_sizes(shape: tuple[int, ...], p: dict) -> None:
    if any(s % 2 for s in shape[2:]):
        raise ValueError(f"spatial sizes {shape[2:]} must all be even")
    if (shape[1] if p["out"] is None else p["out"]) < 2:
        raise ValueError("out must be >= 2 (two halves)")


@register_op(
    "factorized_reduce",
    ranks=(4, 5),
    check=_even_sizes,
    **P.declare(out=(None, P.channels()), norm=("bn", P.choice(*NORMS))),
)
class FactorizedReduce(nn.Module):
    """DARTS / DiNTS ×2 down-sampling: ReLU, two shifted stride-2 1×1 convs, concat, norm.

    The second conv reads the input shifted by one; spatial sizes must be even."""

    def __init__(self, spec: OpSpec):
        super().__init__()
        dims, cin, cout = spatial_dims(spec), spec.input_shape[1], out_channels(spec)
        self.act = nn.ReLU()
        self.conv_a = torch_layer("Conv", dims)(cin, cout // 2, 1, stride=2, bias=False)
        self.conv_b = torch_layer("Conv", dims)(cin, cout - cout // 2, 1, stride=2, bias=False)
        self.norm = make_norm(spec.p["norm"], dims, cout)
        self.shift = (slice(None), slice(None)) + (slice(1, None),) * dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(x)
        return self.norm(torch.cat([self.conv_a(x), self.conv_b(x[self.shift])], dim=1))


@register_op("gap_upsample_conv", ranks=(4,), **P.declare(out=(None, P.channels())))
class GapConvUpsample(nn.Module):
    """Dynamic-cell op 1: global average pooling, 1×1 conv, bilinear back to the input size.

    The conv (+ReLU) runs on the pooled 1×1 map; no norm, which a 1×1 map cannot train with."""

    def __init__(self, spec: OpSpec):
        super().__init__()
        self.conv = nn.Conv2d(spec.input_shape[1], out_channels(spec), 1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.act(self.conv(x.mean(dim=(2, 3), keepdim=True)))
        return F.interpolate(pooled, size=x.shape[2:], mode="bilinear", align_corners=False)
