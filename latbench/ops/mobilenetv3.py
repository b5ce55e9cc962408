"""MobileNetV3 op kinds, as Once-for-All (OFA) defines them.

Source: mit-han-lab/once-for-all, ``ofa/utils/layers.py`` (``ConvLayer``, ``MBConvLayer``,
``LinearLayer``), ``ofa/utils/pytorch_modules.py`` (``SEModule``, ``Hswish``, ``Hsigmoid``,
``make_divisible``) and ``ofa/imagenet_classification/elastic_nn/networks/ofa_mbv3.py``
(how the supernet wires them). Every conv is bias-free and 'same'-padded; BN follows the conv;
the activation follows BN. Squeeze-and-excitation reduces to ``make_divisible(mid // 4, 8)``
channels (1×1 convs with bias, ReLU, then hard-sigmoid), and scales the depth-wise output.

Kinds: ``mbv3_conv`` (first conv and final expand layer), ``mbv3_block`` (inverted residual),
``mbv3_feature_mix`` (the 1×1 conv on the pooled vector); the pooling and the classifier are
the existing ``global_pool`` and ``linear`` kinds.
"""

from __future__ import annotations

import torch
from torch import nn

from latbench.ops import params as P
from latbench.ops.basic import out_channels
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


def activation(name: str) -> nn.Module:
    """ReLU, hard-swish ``x·relu6(x+3)/6`` (OFA's ``Hswish``) or nothing."""
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "h_swish":
        return nn.Hardswish(inplace=True)
    return nn.Identity()


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
    cout: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
    bn: bool = True,
    act: str = "none",
) -> nn.Sequential:
    """Bias-free 'same' k×k conv, optional BN, activation (OFA's ``weight_bn_act`` order)."""
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False)
    ]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    if act != "none":
        layers.append(activation(act))
    return nn.Sequential(*layers)


class MBConvBlock(nn.Module):
    """OFA ``MBConvLayer`` inside a ``ResidualBlock``: [1×1 expand-BN-act] -> k×k depth-wise-
    BN-act [-> SE] -> 1×1 project-BN, plus the identity when stride is 1 and cin == cout."""

    def __init__(
        self,
        cin: int,
        cout: int,
        mid: int,
        kernel: int,
        stride: int,
        act: str,
        se: bool,
        expand: bool,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        if expand:
            layers.append(conv_bn_act(cin, mid, 1, act=act))
        layers.append(conv_bn_act(mid, mid, kernel, stride, groups=mid, act=act))
        if se:
            layers.append(SqueezeExcite(mid))
        layers.append(conv_bn_act(mid, cout, 1))
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


@register_op(
    "mbv3_conv",
    defaults={"out": REQUIRED, "kernel": 1, "stride": 1, "bn": True, "act": "h_swish"},
    ranks=(4,),
    params={
        "out": P.integer(),
        "kernel": P.odd(),
        "stride": P.choice(1, 2),
        "bn": P.boolean(),
        "act": P.choice(*ACTIVATIONS),
    },
)
def build_mbv3_conv(spec: OpSpec) -> nn.Module:
    """OFA ConvLayer: bias-free k×k conv, [BN], ReLU/hard-swish (first conv, final expand)."""
    act = spec.p["act"]
    return conv_bn_act(
        spec.input_shape[1],
        out_channels(spec),
        spec.p["kernel"],
        spec.p["stride"],
        bn=bool(spec.p["bn"]),
        act=act,
    )


@register_op(
    "mbv3_block",
    defaults={"out": REQUIRED, "mid": None, "kernel": 3, "stride": 1, "act": "relu", "se": False},
    ranks=(4,),
    params={
        "out": P.integer(),
        "mid": lambda v, shape: None if v is None else P.as_int(v),
        "kernel": P.odd(),
        "stride": P.choice(1, 2),
        "act": P.choice(*ACTIVATIONS),
        "se": P.boolean(),
    },
)
def build_mbv3_block(spec: OpSpec) -> nn.Module:
    """MobileNetV3 inverted residual: 1×1 expand to ``mid``, k×k depth-wise, [SE], 1×1 project.

    ``mid=None`` is OFA's expand-ratio-1 block (no expand conv; depth-wise on the input). The
    identity shortcut is inside the op when stride is 1 and the channels are kept."""
    cin, cout = spec.input_shape[1], out_channels(spec)
    mid = spec.p["mid"]
    act = spec.p["act"]
    return MBConvBlock(
        cin,
        cout,
        cin if mid is None else mid,
        spec.p["kernel"],
        spec.p["stride"],
        act,
        bool(spec.p["se"]),
        expand=mid is not None,
    )


class FeatureMix(nn.Module):
    """OFA's feature-mix layer on the pooled N×C vector: bias-free 1×1 conv (= linear), no BN,
    then hard-swish."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.linear = nn.Linear(cin, cout, bias=False)
        self.act = nn.Hardswish(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.linear(x))


@register_op(
    "mbv3_feature_mix", defaults={"out": REQUIRED}, ranks=(2,), params={"out": P.integer()}
)
def build_mbv3_feature_mix(spec: OpSpec) -> nn.Module:
    """OFA feature-mix layer: bias-free 1×1 conv on the pooled vector (N,C -> N,out), h-swish."""
    return FeatureMix(spec.input_shape[1], out_channels(spec))
