"""Dynamic cells for semantic video segmentation (2048×1024 CityScapes frames, batch 1).

The static network's MobileNet-v2 encoder runs on every frame; a searched dynamic cell
replaces the decoder on every frame but the first. Its inputs: *layer2* (32 ch, 1/8),
*layer3* (96 ch, 1/16), *layer4* (320 ch, 1/32) of the current frame, *layer4* and *dec*
(64 ch, 1/8) of the previous one. Each step picks two inputs, applies one op of
``OP_NAMES`` (Table 1) to each at its own resolution, up-samples the smaller result to the
larger and aggregates them with one op of ``AGG_NAMES`` (Table 2); the unused aggregates are
concatenated, fused back to 64 channels (the next frame's *dec*), classified (19 classes)
and up-sampled ×8 to the frame.

Assumptions (after Nekrasov et al., whose decoder the paper extends): encoder outputs are
first projected to the cell width (64) by 1×1 conv-BN-ReLU; separable convs are
depth-wise-point-wise-BN-ReLU; MobileNet-v2 omits its last 1×1 conv (segmentation
backbone); the fusion is a 1×1 conv-BN-ReLU. The static decoder ('arch2', run on the first
frame only) is not described in the paper and is not listed.

Pieces for network builders (``size`` is "paper" or "small"):

- ``MOBILENET_V2`` (t, c, n, s) settings; ``encoder_ops(size)``: stem and the 17 blocks in
  order; ``INPUTS``: channels and stride of the five cell inputs.
- ``projection_op(layer, size)``: the 1×1 projection of an encoder output (None for *dec*).
- ``cell_ops(stride, size)`` / ``aggregation_ops(stride, size)``: name -> OpSpec.
- ``resize_op(src_stride, dst_stride, size)``; ``head_ops(n_outputs, size)``.

Small size: the same at 256×128 frames.
"""

from __future__ import annotations

from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.spaces._sizes import for_size
from latbench.spaces.registry import register_space

SPACE = "dyncell"
FRAME_HW = {"paper": (1024, 2048), "small": (128, 256)}  # (height, width)
CELL_CHANNELS = 64
N_CLASSES = 19
BATCH = 1
MOBILENET_V2 = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)  # expand t, channels c, repeats n, stride s
STEM_CHANNELS = 32
INPUTS = {
    "layer2": (32, 8),
    "layer3": (96, 16),
    "layer4": (320, 32),
    "prev_layer4": (320, 32),
    "dec": (CELL_CHANNELS, 8),
}  # (channels, stride)
STRIDES = (8, 16, 32)
OP_NAMES = (
    "sep_conv_3x3",
    "gap_conv_1x1",
    "sep_conv_3x3_d3",
    "sep_conv_5x5_d6",
    "skip_connect",
    "deform_conv_3x3",
)
AGG_NAMES = (
    "weighted_sum",
    "concat_conv",
    "predict_filter",
    "affine_sample",
    "conv3d",
    "attention",
)
_BN = dict(norm="bn", act="relu")


def _hw(stride: int, size: str) -> tuple[int, int]:
    h, w = for_size(SPACE, size, FRAME_HW)
    return (h // stride, w // stride)


def encoder_ops(size: str) -> list[OpSpec]:
    """MobileNet-v2 up to 1/32: 3×3/2 conv-BN-ReLU stem, then the 17 inverted residuals."""
    h, w = for_size(SPACE, size, FRAME_HW)
    ops = [OpSpec.make("conv", (BATCH, 3, h, w), out=STEM_CHANNELS, kernel=3, stride=2, **_BN)]
    channels, stride = STEM_CHANNELS, 2
    for t, c, n, s in MOBILENET_V2:
        for i in range(n):
            block_stride = s if i == 0 else 1
            ops.append(
                OpSpec.make(
                    "mbv2_block",
                    (BATCH, channels, *_hw(stride, size)),
                    out=c,
                    stride=block_stride,
                    expand=t,
                )
            )
            channels, stride = c, stride * block_stride
    return ops


def projection_op(layer: str, size: str) -> OpSpec | None:
    """1×1 conv-BN-ReLU from an encoder output to the cell width; None for *dec*."""
    if layer not in INPUTS:
        raise LatbenchError(f"unknown cell input {layer!r}; valid: {', '.join(INPUTS)}")
    channels, stride = INPUTS[layer]
    if channels == CELL_CHANNELS:
        return None
    return OpSpec.make(
        "conv", (BATCH, channels, *_hw(stride, size)), out=CELL_CHANNELS, kernel=1, **_BN
    )


def _cell_shape(stride: int, size: str) -> tuple[int, int, int, int]:
    if stride not in STRIDES:
        raise LatbenchError(f"stride {stride} is not one of the cell's {STRIDES}")
    return (BATCH, CELL_CHANNELS, *_hw(stride, size))


def cell_ops(stride: int, size: str) -> dict[str, OpSpec]:
    """The six ops of Table 1 at ``stride``, by name (see OP_NAMES)."""
    shape = _cell_shape(stride, size)
    return {
        "sep_conv_3x3": OpSpec.make("sepconv", shape, kernel=3, **_BN),
        "gap_conv_1x1": OpSpec.make("gap_upsample_conv", shape),
        "sep_conv_3x3_d3": OpSpec.make("sepconv", shape, kernel=3, dilation=3, **_BN),
        "sep_conv_5x5_d6": OpSpec.make("sepconv", shape, kernel=5, dilation=6, **_BN),
        "skip_connect": OpSpec.make("identity", shape),
        "deform_conv_3x3": OpSpec.make("deform_conv", shape, kernel=3, **_BN),
    }


def aggregation_ops(stride: int, size: str) -> dict[str, OpSpec]:
    """The six aggregations of Table 2 at ``stride``, by name (see AGG_NAMES)."""
    shape = _cell_shape(stride, size)
    return {name: OpSpec.make(f"agg_{name}", shape) for name in AGG_NAMES}


def resize_op(src_stride: int, dst_stride: int, size: str) -> OpSpec:
    """Bilinear up-sampling of a cell-width tensor from ``src_stride`` to ``dst_stride``."""
    if dst_stride >= src_stride:
        raise LatbenchError(
            f"resize goes from a coarser to a finer stride, not {src_stride} -> {dst_stride}"
        )
    return OpSpec.make("upsample", _cell_shape(src_stride, size), scale=src_stride // dst_stride)


def head_ops(n_outputs: int, size: str) -> list[OpSpec]:
    """Fuse ``n_outputs`` concatenated aggregates to 64 channels (if more than one), classify
    (1×1 conv, 19 classes) and up-sample ×8 to the frame."""
    hw = _hw(8, size)
    ops = (
        []
        if n_outputs == 1
        else [
            OpSpec.make(
                "conv", (BATCH, n_outputs * CELL_CHANNELS, *hw), out=CELL_CHANNELS, kernel=1, **_BN
            )
        ]
    )
    return ops + [
        OpSpec.make("conv", (BATCH, CELL_CHANNELS, *hw), out=N_CLASSES, kernel=1, bias=True),
        OpSpec.make("upsample", (BATCH, N_CLASSES, *hw), scale=8),
    ]


@register_space(SPACE, paper="Dynamic cells for semantic video segmentation (1080Ti)")
def dyncell_ops(size: str) -> list[OpSpec]:
    """MobileNet-v2 encoder, projections, cell ops and aggregations at 1/8-1/32, head."""
    ops = encoder_ops(size)
    ops += [op for layer in INPUTS if (op := projection_op(layer, size)) is not None]
    for stride in STRIDES:
        ops += cell_ops(stride, size).values()
        ops += aggregation_ops(stride, size).values()
    ops += [resize_op(src, dst, size) for src in STRIDES for dst in STRIDES if dst < src]
    return ops + head_ops(1, size) + head_ops(2, size)
