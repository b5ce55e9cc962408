"""Once-for-All MobileNetV3 (``ofa_mbv3_d234_e346_k357_w{1.0,1.2}``; Cai et al., ICLR 2020).

The supernet of ``ofa/imagenet_classification/elastic_nn/networks/ofa_mbv3.py``: first conv
(3×3/2, h-swish), a fixed expand-ratio-1 block, five stages of 2–4 inverted-residual blocks
(kernel 3/5/7, expand ratio 3/4/6), final expand 1×1, global pooling, feature mix, classifier.
Channels are ``make_divisible(base · width, 8)``; resolutions 128–224 in steps of 4.
"""

from __future__ import annotations

from dataclasses import dataclass

from latbench.errors import LatbenchError
from latbench.ops.mobilenetv3 import make_divisible
from latbench.opspec import OpSpec
from latbench.spaces._sizes import for_size
from latbench.spaces.registry import register_space

BASE_WIDTHS = (16, 16, 24, 40, 80, 112, 160, 960, 1280)  # stem, block 0, 5 stages, expand, mix
STRIDES = (2, 2, 2, 1, 2)  # first block of each of the five stages
ACTS = ("relu", "relu", "h_swish", "h_swish", "h_swish")
SE = (False, True, False, True, True)
KERNELS = (3, 5, 7)
EXPANDS = (3, 4, 6)
DEPTHS = (2, 3, 4)
MAX_DEPTH = 4
N_STAGES = 5
RESOLUTIONS = tuple(range(128, 225, 4))
WIDTHS = (1.0, 1.2)
N_CLASSES = 1000


@dataclass(frozen=True)
class Widths:
    """Channel counts of one width multiplier."""

    stem: int
    block0: int
    stages: tuple[int, ...]
    final_expand: int
    feature_mix: int


def widths(width: float) -> Widths:
    """OFA's channels for ``width``: every base width through ``make_divisible(c · w, 8)``."""
    if width not in WIDTHS:
        raise LatbenchError(
            f"ofa-mbv3: width {width!r} is not one of {', '.join(map(str, WIDTHS))}"
        )
    c = [make_divisible(b * width) for b in BASE_WIDTHS]
    return Widths(c[0], c[1], tuple(c[2:7]), c[7], c[8])


def conv_out(size: int, stride: int) -> int:
    """Spatial size after a 'same'-padded odd-kernel conv of ``stride``."""
    return (size - 1) // stride + 1


def stage_sizes(resolution: int) -> list[int]:
    """Input spatial size of each stage's first block (after the stride-2 first conv)."""
    size, sizes = conv_out(resolution, 2), []
    for stride in STRIDES:
        sizes.append(size)
        size = conv_out(size, stride)
    return sizes


def block_op(
    cin: int, cout: int, size: int, batch: int, stage: int, first: bool, kernel: int, expand: int
) -> OpSpec:
    """One inverted-residual block of ``stage`` (0-based) at ``size``² input."""
    mid = make_divisible(round(cin * expand))
    return OpSpec.make(
        "mbv3_block",
        (batch, cin, size, size),
        out=cout,
        mid=mid,
        kernel=kernel,
        stride=STRIDES[stage] if first else 1,
        act=ACTS[stage],
        se=SE[stage],
    )


def stem_ops(resolution: int, batch: int, width: float) -> list[OpSpec]:
    """First conv and the fixed expand-ratio-1 block (3×3, ReLU, residual when 16 -> 16)."""
    w = widths(width)
    size = conv_out(resolution, 2)
    return [
        OpSpec.make(
            "mbv3_conv",
            (batch, 3, resolution, resolution),
            out=w.stem,
            kernel=3,
            stride=2,
            act="h_swish",
        ),
        OpSpec.make("mbv3_block", (batch, w.stem, size, size), out=w.block0, kernel=3, act="relu"),
    ]


def head_ops(resolution: int, batch: int, width: float) -> list[OpSpec]:
    """Final expand 1×1, global average pooling, feature mix, classifier."""
    w = widths(width)
    size = conv_out(stage_sizes(resolution)[-1], STRIDES[-1])
    shape = (batch, w.stages[-1], size, size)
    return [
        OpSpec.make("mbv3_conv", shape, out=w.final_expand, act="h_swish"),
        OpSpec.make("global_pool", (batch, w.final_expand, size, size)),
        OpSpec.make("mbv3_feature_mix", (batch, w.final_expand), out=w.feature_mix),
        OpSpec.make("linear", (batch, w.feature_mix), out=N_CLASSES),
    ]


def supernet_ops(
    resolution: int,
    batch: int,
    width: float,
    kernels: tuple[int, ...] = KERNELS,
    expands: tuple[int, ...] = EXPANDS,
) -> list[OpSpec]:
    """Every distinct op of the supernet at one resolution, batch and width."""
    w = widths(width)
    ops = stem_ops(resolution, batch, width)
    cin = w.block0
    for stage, size in enumerate(stage_sizes(resolution)):
        cout = w.stages[stage]
        after = conv_out(size, STRIDES[stage])
        for kernel in kernels:
            for expand in expands:
                ops.append(block_op(cin, cout, size, batch, stage, True, kernel, expand))
                ops.append(block_op(cout, cout, after, batch, stage, False, kernel, expand))
        cin = cout
    return ops + head_ops(resolution, batch, width)


@dataclass(frozen=True)
class SizeConfig:
    """The grid one size of the space covers."""

    resolutions: tuple[int, ...]
    batches: tuple[int, ...]
    widths: tuple[float, ...]
    kernels: tuple[int, ...] = KERNELS
    expands: tuple[int, ...] = EXPANDS


# ``small``: batch 1 at 128 px, width 1.2, kernels 3/7 and expand ratios 3/6 (46 ops, seconds
# on one core); its sampler draws from the same choices. ``paper``: the whole supernet.
CONFIGS = {
    "small": SizeConfig((128,), (1,), (1.2,), kernels=(3, 7), expands=(3, 6)),
    "paper": SizeConfig(RESOLUTIONS, (1, 32, 64), WIDTHS),
}


@register_space("ofa-mbv3", paper="Once-for-All (Cai et al., ICLR 2020)")
def ofa_mbv3_ops(size: str) -> list[OpSpec]:
    """OFA MobileNetV3 supernet (k 3/5/7, e 3/4/6, d 2-4) at its resolutions and widths."""
    c = for_size("ofa-mbv3", size, CONFIGS)
    return [
        op
        for width in c.widths
        for batch in c.batches
        for r in c.resolutions
        for op in supernet_ops(r, batch, width, c.kernels, c.expands)
    ]
