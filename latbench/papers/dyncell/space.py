"""Dynamic cells for semantic video segmentation (2048×1024 CityScapes frames, batch 1).

The MobileNet-v2 encoder runs on every frame; a searched dynamic cell replaces the decoder on
every frame but the first. Its inputs (``INPUTS``): *layer2*, *layer3*, *layer4* of the current
frame, *layer4* and *dec* of the previous one. Each of ``N_STEPS`` steps picks two inputs from
the pool (the inputs, then earlier steps' results; with replacement), applies one op of
``OP_NAMES`` (Table 1) to each, up-samples the coarser to the finer stride and aggregates them
with one op of ``AGG_NAMES`` (Table 2). Unread results are brought to stride 8, fused back to 64
channels (the next frame's *dec*), classified (19 classes) and up-sampled ×8 to the frame.

Assumptions (after Nekrasov et al., whose decoder the paper extends): encoder outputs are
projected to the cell width (64) by 1×1 conv-BN-ReLU; separable convs are depth-wise-point-wise-
BN-ReLU; MobileNet-v2 omits its last 1×1 conv; the fusion is a 1×1 conv-BN-ReLU. The static
decoder (run on the first frame only) is not described in the paper and is not listed. Small
size: 256×128 frames.

Timing stand-ins, same shapes hence the same work: *prev_layer4* and *dec*, the previous frame's
state, are read as the current frame's *layer4* (projected again) and projected *layer2*. Two
outputs are fused by ``concat_conv`` at stride 8 (no op kind concatenates alone, so the fusion
conv-BN-ReLU cannot be wired: one BN-ReLU on 64 channels less).

Genotype: steps ``|``-separated, each ``in_a:op_a+in_b:op_b>aggregation`` with step results
named ``cell0``, ``cell1``, ...
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latbench.architecture import INPUT, Architecture
from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.papers.chain import Chain
from latbench.spaces.registry import for_size, register_sampler, register_space

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
            shape = (BATCH, channels, *_hw(stride, size))
            ops.append(OpSpec.make("mbv2_block", shape, out=c, stride=block_stride, expand=t))
            channels, stride = c, stride * block_stride
    return ops


def projection_op(layer: str, size: str) -> OpSpec | None:
    """1×1 conv-BN-ReLU from an encoder output to the cell width; None for *dec*."""
    channels, stride = INPUTS[layer]
    if channels == CELL_CHANNELS:
        return None
    return OpSpec.make(
        "conv", (BATCH, channels, *_hw(stride, size)), out=CELL_CHANNELS, kernel=1, **_BN
    )


def _cell_shape(stride: int, size: str) -> tuple[int, int, int, int]:
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
    """Bilinear up-sampling of a cell-width tensor from ``src_stride`` to a finer ``dst_stride``."""
    return OpSpec.make("upsample", _cell_shape(src_stride, size), scale=src_stride // dst_stride)


def head_ops(n_outputs: int, size: str) -> list[OpSpec]:
    """Fuse ``n_outputs`` concatenated aggregates to 64 channels (if more than one), classify
    (1×1 conv, 19 classes) and up-sample ×8 to the frame."""
    hw = _hw(8, size)
    fused = (BATCH, n_outputs * CELL_CHANNELS, *hw)
    ops = [OpSpec.make("conv", fused, out=CELL_CHANNELS, kernel=1, **_BN)] if n_outputs > 1 else []
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


N_STEPS = 2
Step = tuple[str, str, str, str, str]  # input a, op a, input b, op b, aggregation
_STAND_IN = {"prev_layer4": "layer4"}  # previous-frame state timed with the current frame's


class _Graph(Chain):
    def __init__(self, size: str) -> None:
        super().__init__("t")
        self.size, node = size, INPUT
        self.nodes: dict[str, tuple[str, int]] = {}  # name -> (node, stride)
        self.raw: dict[str, str] = {}
        for i, op in enumerate(encoder_ops(size)):
            node = self.add(node, [op], f"enc{i}")
            for layer in ("layer2", "layer3", "layer4"):  # the last block of that width
                if op.p["out"] == INPUTS[layer][0]:
                    self.raw[layer] = node

    def cell_input(self, name: str) -> tuple[str, int]:
        """The 64-channel node of a cell input (projected on first use) and its stride."""
        if name not in self.nodes:
            if name == "dec":
                self.nodes[name] = (self.cell_input("layer2")[0], INPUTS["dec"][1])
            else:
                proj = projection_op(name, self.size)
                assert proj is not None  # only *dec* has the cell width already
                node = self.add(self.raw[_STAND_IN.get(name, name)], [proj])
                self.nodes[name] = (node, INPUTS[name][1])
        return self.nodes[name]

    def to_stride(self, node: str, src: int, dst: int) -> str:
        return node if src == dst else self.add(node, [resize_op(src, dst, self.size)])


def check(steps: Sequence[Step]) -> None:
    """Raise ``LatbenchError`` unless every step reads known inputs with known ops."""
    pool = list(INPUTS)
    for i, (a, op_a, b, op_b, agg) in enumerate(steps):
        bad = [x for x in (a, b) if x not in pool] + [o for o in (op_a, op_b) if o not in OP_NAMES]
        if bad or agg not in AGG_NAMES:
            raise LatbenchError(
                f"dyncell: step {i} {(a, op_a, b, op_b, agg)!r}: inputs among "
                f"{pool}, ops among {OP_NAMES}, aggregation among {AGG_NAMES}"
            )
        pool.append(f"cell{i}")
    if len(outputs(steps)) > 2:
        raise LatbenchError(
            f"dyncell: {len(outputs(steps))} unread step results; the space's head fuses at most 2"
        )


def outputs(steps: Sequence[Step]) -> list[str]:
    read = {x for a, _, b, _, _ in steps for x in (a, b)}
    return [f"cell{i}" for i in range(len(steps)) if f"cell{i}" not in read]


def build_network(steps: Sequence[Step], size: str = "small") -> Architecture:
    """Encoder + the cell of ``steps`` + head, per frame."""
    check(steps)
    g = _Graph(size)
    for i, (a, op_a, b, op_b, agg) in enumerate(steps):
        (na, sa), (nb, sb) = g.cell_input(a), g.cell_input(b)
        na, nb = g.add(na, [cell_ops(sa, size)[op_a]]), g.add(nb, [cell_ops(sb, size)[op_b]])
        fine = min(sa, sb)
        na, nb = g.to_stride(na, sa, fine), g.to_stride(nb, sb, fine)
        g.nodes[f"cell{i}"] = (g.add((na, nb), [aggregation_ops(fine, size)[agg]]), fine)
    outs = tuple(g.to_stride(*g.nodes[name], 8) for name in outputs(steps))
    fuse = [aggregation_ops(8, size)["concat_conv"]] if len(outs) > 1 else []
    node = g.add(outs, fuse + head_ops(1, size))
    genotype = "|".join(f"{a}:{oa}+{b}:{ob}>{agg}" for a, oa, b, ob, agg in steps)
    return Architecture(SPACE, tuple(g.edges), node, genotype=genotype, meta={"size": size})


def sample_steps(rng: np.random.Generator, n_steps: int = N_STEPS) -> list[Step]:
    """The controller's choices drawn uniformly: inputs with replacement, ops, aggregation."""
    pool, steps = list(INPUTS), []
    for i in range(n_steps):
        a, b = (pool[int(j)] for j in rng.integers(0, len(pool), size=2))
        op_a, op_b = (OP_NAMES[int(j)] for j in rng.integers(0, len(OP_NAMES), size=2))
        steps.append((a, op_a, b, op_b, AGG_NAMES[int(rng.integers(len(AGG_NAMES)))]))
        pool.append(f"cell{i}")
    return steps


@register_sampler(SPACE)
def sample(size: str, rng: np.random.Generator) -> Architecture:
    """A uniformly sampled two-step dynamic cell on the MobileNet-v2 encoder."""
    return build_network(sample_steps(rng), size)
