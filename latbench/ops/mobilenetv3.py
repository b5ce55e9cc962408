"""MobileNetV3 op kinds as Once-for-All (OFA) defines them: ``mbv3_conv`` (first conv, final
expand), ``mbv3_block`` (inverted residual) and ``mbv3_feature_mix`` (1×1 conv on the pooled
vector); pooling and classifier are the ``global_pool`` and ``linear`` kinds.

Source: mit-han-lab/once-for-all, ``ofa/utils/layers.py`` (``ConvLayer``, ``MBConvLayer``,
``LinearLayer``), ``ofa/utils/pytorch_modules.py`` (``SEModule``, ``Hswish``, ``Hsigmoid``,
``make_divisible``) and ``elastic_nn/networks/ofa_mbv3.py`` (the supernet's wiring). Every
conv is bias-free and 'same'-padded, BN follows the conv, the activation follows BN.
"""

from __future__ import annotations

import torch
from torch import nn

from latbench.ops import params as P
from latbench.ops.registry import REQUIRED, register_op
from latbench.opspec import OpSpec

ACTIVATIONS = ("relu", "h_swish", "none")
SE_REDUCTION = 4
CHANNEL_DIVISIBLE = 8


def make_divisible(value: float, divisor: int = CHANNEL_DIVISIBLE) -> int:
    """OFA's (TF-slim's) channel rounding: nearest multiple of ``divisor``, at least
    ``divisor``, and never more than 10 % below ``value``."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


class SqueezeExcite(nn.Module):
    """OFA's ``SEModule``: mean over H, W; 1×1 reduce (bias), ReLU, 1×1 expand (bias),
    hard-sigmoid; the input is scaled channel-wise by the result."""

    def __init__(self, channels: int):
        super().__init__()
        mid = make_divisible(channels // SE_REDUCTION)
        self.fc = nn.Sequential(
            nn.Conv2d(channels, mid, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, channels, 1),
            nn.Hardsigmoid(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(x.mean(dim=(2, 3), keepdim=True))


def conv_bn_act(
    cin: int,
    out: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
    bn: bool = True,
    act: str = "none",
) -> nn.Sequential:
    """Bias-free 'same' k×k conv, optional BN, activation: ReLU, ReLU6, hard-swish
    ``x·relu6(x+3)/6`` (OFA's ``Hswish``) or none (OFA's ``weight_bn_act`` order)."""
    layers: list[nn.Module] = [
        nn.Conv2d(cin, out, kernel, stride, kernel // 2, groups=groups, bias=False)
    ]
    if bn:
        layers.append(nn.BatchNorm2d(out))
    if act == "relu6":  # MobileNet-v2's, not in place
        layers.append(nn.ReLU6())
    elif act != "none":
        layers.append((nn.ReLU if act == "relu" else nn.Hardswish)(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """[1×1 expand to ``mid``-BN-act] -> k×k depth-wise (stride)-BN-act [-> SE] -> 1×1
    project-BN to ``out``, plus the identity when stride is 1 and cin == out (MobileNet-v2;
    OFA's ``MBConvLayer`` inside a ``ResidualBlock``). ``mid`` None: no expand conv."""

    def __init__(
        self, cin: int, out: int, mid: int | None, kernel: int, stride: int, act: str, se: bool
    ):
        super().__init__()
        layers: list[nn.Module] = []
        if mid is not None:
            layers.append(conv_bn_act(cin, mid, 1, act=act))
        mid = cin if mid is None else mid
        layers.append(conv_bn_act(mid, mid, kernel, stride, groups=mid, act=act))
        if se:
            layers.append(SqueezeExcite(mid))
        layers.append(conv_bn_act(mid, out, 1))
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


@register_op(
    "mbv3_conv",
    ranks=(4,),
    **P.declare(
        out=(REQUIRED, P.integer()),
        kernel=(1, P.odd()),
        stride=(1, P.choice(1, 2)),
        bn=(True, P.boolean()),
        act=("h_swish", P.choice(*ACTIVATIONS)),
    ),
)
def build_mbv3_conv(spec: OpSpec) -> nn.Module:
    """OFA ConvLayer: bias-free k×k conv, [BN], ReLU/hard-swish (first conv, final expand)."""
    return conv_bn_act(spec.input_shape[1], **spec.p)


@register_op(
    "mbv3_block",
    ranks=(4,),
    **P.declare(
        out=(REQUIRED, P.integer()),
        mid=(None, P.optional(P.integer())),
        kernel=(3, P.odd()),
        stride=(1, P.choice(1, 2)),
        act=("relu", P.choice(*ACTIVATIONS)),
        se=(False, P.boolean()),
    ),
)
def build_mbv3_block(spec: OpSpec) -> nn.Module:
    """MobileNetV3 inverted residual: 1×1 expand to ``mid``, k×k depth-wise, [SE], 1×1 project.

    ``mid=None`` is OFA's expand-ratio-1 block (no expand conv; depth-wise on the input). The
    identity shortcut is inside the op when stride is 1 and the channels are kept. SE reduces
    to ``make_divisible(mid // 4, 8)`` channels and scales the depth-wise output."""
    return InvertedResidual(spec.input_shape[1], **spec.p)


@register_op("mbv3_feature_mix", ranks=(2,), **P.declare(out=(REQUIRED, P.integer())))
def build_mbv3_feature_mix(spec: OpSpec) -> nn.Module:
    """OFA feature-mix layer: bias-free 1×1 conv on the pooled vector (N,C -> N,out), h-swish."""
    linear = nn.Linear(spec.input_shape[1], spec.p["out"], bias=False)
    return nn.Sequential(linear, nn.Hardswish(inplace=True))
