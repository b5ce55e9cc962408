"""NAS-Bench-201: the field's standard cell benchmark (CIFAR, 32×32).

Cell ops none / skip_connect / nor_conv_1x1 / nor_conv_3x3 / avg_pool_3x3 (convs are
ReLU-Conv-BN) at the three stages C=16@32², 32@16², 64@8², plus the ops of the fixed skeleton
(stem 3×3 conv-BN, the two residual reduction blocks, last BN-ReLU, global pooling, classifier)
so that whole networks are covered by the table.
"""

from __future__ import annotations

from latbench.opspec import OpSpec
from latbench.spaces.registry import register_space

STAGES = ((16, 32), (32, 16), (64, 8))  # (channels, resolution)
OP_NAMES = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
N_CLASSES = 10


def cell_ops(channels: int, res: int, batch: int) -> dict[str, OpSpec]:
    """NAS-Bench-201's five candidate ops at one stage, by their benchmark names."""
    shape = (batch, channels, res, res)
    nor = dict(norm="bn", act="relu", act_first=True)
    return {
        "none": OpSpec.make("zero", shape),
        "skip_connect": OpSpec.make("identity", shape),
        "nor_conv_1x1": OpSpec.make("conv", shape, kernel=1, **nor),
        "nor_conv_3x3": OpSpec.make("conv", shape, kernel=3, **nor),
        "avg_pool_3x3": OpSpec.make("pool", shape, reduce="avg", kernel=3, stride=1),
    }


def stem_op(batch: int) -> OpSpec:
    return OpSpec.make("conv", (batch, 3, 32, 32), out=16, kernel=3, norm="bn")


def reduction_ops(channels: int, res: int, batch: int) -> list[OpSpec]:
    """The residual reduction block from ``channels``@``res`` to 2×channels@res/2, as its ops:
    ReLU-Conv3×3/2-BN, ReLU-Conv3×3-BN, shortcut AvgPool2 + Conv1×1."""
    shape, out = (batch, channels, res, res), 2 * channels
    nor = dict(norm="bn", act="relu", act_first=True)
    half = (batch, out, res // 2, res // 2)
    return [
        OpSpec.make("conv", shape, out=out, kernel=3, stride=2, **nor),
        OpSpec.make("conv", half, kernel=3, **nor),
        OpSpec.make("pool", shape, reduce="avg", kernel=2),
        OpSpec.make("conv", (batch, channels, res // 2, res // 2), out=out, kernel=1),
    ]


def head_ops(batch: int) -> list[OpSpec]:
    """Last BN-ReLU, global average pooling and the linear classifier."""
    channels, res = STAGES[-1]
    return [
        OpSpec.make("norm_act", (batch, channels, res, res)),
        OpSpec.make("global_pool", (batch, channels, res, res)),
        OpSpec.make("linear", (batch, channels), out=N_CLASSES),
    ]


def skeleton_ops(batch: int) -> list[OpSpec]:
    """The non-searchable ops of a NAS-Bench-201 network."""
    ops = [stem_op(batch)]
    for channels, res in STAGES[:-1]:
        ops.extend(reduction_ops(channels, res, batch))
    return ops + head_ops(batch)


@register_space("nasbench201", paper="NAS-Bench-201 (Dong & Yang, ICLR 2020)")
def nasbench201_ops(size: str) -> list[OpSpec]:
    """NAS-Bench-201 cell ops at its three CIFAR stages, plus its fixed skeleton."""
    batches = (1,) if size == "small" else (1, 64)
    ops: list[OpSpec] = []
    for batch in batches:
        for channels, res in STAGES:
            ops.extend(cell_ops(channels, res, batch).values())
        ops.extend(skeleton_ops(batch))
    return ops
