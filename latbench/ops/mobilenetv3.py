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
    cout: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
    bn: bool = True,
    act: str = "none",
) -> nn.Sequential:
    """Bias-free 'same' k×k conv, optional BN, activation: ReLU, hard-swish ``x·relu6(x+3)/6``
    (OFA's ``Hswish``) or none (OFA's ``weight_bn_act`` order)."""
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False)
    ]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    if act != "none":
        layers.append((nn.ReLU if act == "relu" else nn.Hardswish)(inplace=True))
    return nn.Sequential(*layers)


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
    p = spec.p
    return conv_bn_act(
        spec.input_shape[1], p["out"], p["kernel"], p["stride"], bn=p["bn"], act=p["act"]
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
class MBConvBlock(nn.Module):
    """MobileNetV3 inverted residual: 1×1 expand to ``mid``, k×k depth-wise, [SE], 1×1 project.

    OFA's ``MBConvLayer`` inside a ``ResidualBlock``: [1×1 expand-BN-act] -> k×k depth-wise-
    BN-act [-> SE] -> 1×1 project-BN. ``mid=None`` is OFA's expand-ratio-1 block (no expand
    conv; depth-wise on the input). The identity shortcut is inside the op when stride is 1
    and the channels are kept."""

    def __init__(self, spec: OpSpec):
        super().__init__()
        p, cin = spec.p, spec.input_shape[1]
        mid = cin if p["mid"] is None else p["mid"]
        layers: list[nn.Module] = []
        if p["mid"] is not None:
            layers.append(conv_bn_act(cin, mid, 1, act=p["act"]))
        layers.append(conv_bn_act(mid, mid, p["kernel"], p["stride"], groups=mid, act=p["act"]))
        if p["se"]:
            layers.append(SqueezeExcite(mid))
        layers.append(conv_bn_act(mid, p["out"], 1))
        self.body = nn.Sequential(*layers)
        self.residual = p["stride"] == 1 and cin == p["out"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


@register_op(
    "mbv3_feature_mix", defaults={"out": REQUIRED}, ranks=(2,), params={"out": P.integer()}
)
def build_mbv3_feature_mix(spec: OpSpec) -> nn.Module:
    """OFA feature-mix layer: bias-free 1×1 conv on the pooled vector (N,C -> N,out), h-swish."""
    linear = nn.Linear(spec.input_shape[1], spec.p["out"], bias=False)
    return nn.Sequential(linear, nn.Hardswish(inplace=True))
