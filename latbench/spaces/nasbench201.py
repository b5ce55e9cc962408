"""NAS-Bench-201: the field's standard cell benchmark (Dong & Yang, ICLR 2020).

Cell ops none / skip_connect / nor_conv_1x1 / nor_conv_3x3 / avg_pool_3x3 (convs are
ReLU-Conv-BN) at the three stages C=16, 32, 64, plus the ops of the fixed skeleton (stem 3×3
conv-BN, the two residual reduction blocks, last BN-ReLU, global pooling, classifier) so that
whole networks are covered by the table.

The benchmark trains on three datasets, told apart here by their number of classes:
CIFAR-10 (10) and CIFAR-100 (100) at 32×32 input, ImageNet16-120 (120) at 16×16. Every op
builder takes the batch size and the number of classes; the registered space profiles
CIFAR-10 shapes (its ``paper`` size at batches 1 and 64).
"""

from __future__ import annotations

from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.spaces.registry import register_space

CHANNELS = (16, 32, 64)
OP_NAMES = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
N_CLASSES = 10
DATASETS = {10: ("cifar10", 32), 100: ("cifar100", 32), 120: ("ImageNet16-120", 16)}
"""Number of classes -> (NAS-Bench-201 dataset name, input resolution)."""
STAGES = tuple(zip(CHANNELS, (32, 16, 8)))  # (channels, resolution) at CIFAR's 32×32


def input_resolution(n_classes: int) -> int:
    """Input side of NAS-Bench-201's dataset with ``n_classes`` classes (32 or 16 pixels)."""
    try:
        return DATASETS[n_classes][1]
    except KeyError:
        raise LatbenchError(
            f"n_classes={n_classes!r} is not one of NAS-Bench-201's datasets; "
            "expected 10 (cifar10), 100 (cifar100) or 120 "
            "(ImageNet16-120)"
        ) from None


def stages(n_classes: int = N_CLASSES) -> tuple[tuple[int, int], ...]:
    """(channels, resolution) of the three stages for the dataset with ``n_classes``."""
    res = input_resolution(n_classes)
    return tuple((c, res >> i) for i, c in enumerate(CHANNELS))


def _check_batch(batch: int) -> int:
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise LatbenchError(f"batch={batch!r} must be a positive integer")
    return batch


def cell_ops(channels: int, res: int, batch: int) -> dict[str, OpSpec]:
    """NAS-Bench-201's five candidate ops at one stage, by their benchmark names."""
    shape = (_check_batch(batch), channels, res, res)
    nor = dict(norm="bn", act="relu", act_first=True)
    return {
        "none": OpSpec.make("zero", shape),
        "skip_connect": OpSpec.make("identity", shape),
        "nor_conv_1x1": OpSpec.make("conv", shape, kernel=1, **nor),
        "nor_conv_3x3": OpSpec.make("conv", shape, kernel=3, **nor),
        "avg_pool_3x3": OpSpec.make("pool", shape, reduce="avg", kernel=3, stride=1),
    }


def stem_op(batch: int, n_classes: int = N_CLASSES) -> OpSpec:
    res = input_resolution(n_classes)
    return OpSpec.make(
        "conv", (_check_batch(batch), 3, res, res), out=CHANNELS[0], kernel=3, norm="bn"
    )


def reduction_ops(channels: int, res: int, batch: int) -> list[OpSpec]:
    """The residual reduction block from ``channels``@``res`` to 2×channels@res/2, as its ops:
    ReLU-Conv3×3/2-BN, ReLU-Conv3×3-BN, shortcut AvgPool2 + Conv1×1."""
    shape, out = (_check_batch(batch), channels, res, res), 2 * channels
    nor = dict(norm="bn", act="relu", act_first=True)
    half = (batch, out, res // 2, res // 2)
    return [
        OpSpec.make("conv", shape, out=out, kernel=3, stride=2, **nor),
        OpSpec.make("conv", half, kernel=3, **nor),
        OpSpec.make("pool", shape, reduce="avg", kernel=2),
        OpSpec.make("conv", (batch, channels, res // 2, res // 2), out=out, kernel=1),
    ]


def head_ops(batch: int, n_classes: int = N_CLASSES) -> list[OpSpec]:
    """Last BN-ReLU, global average pooling and the linear classifier."""
    channels, res = stages(n_classes)[-1]
    return [
        OpSpec.make("norm_act", (_check_batch(batch), channels, res, res)),
        OpSpec.make("global_pool", (batch, channels, res, res)),
        OpSpec.make("linear", (batch, channels), out=n_classes),
    ]


def skeleton_ops(batch: int, n_classes: int = N_CLASSES) -> list[OpSpec]:
    """The non-searchable ops of a NAS-Bench-201 network."""
    ops = [stem_op(batch, n_classes)]
    for channels, res in stages(n_classes)[:-1]:
        ops.extend(reduction_ops(channels, res, batch))
    return ops + head_ops(batch, n_classes)


def space_ops(batches: tuple[int, ...] = (1,), n_classes: int = N_CLASSES) -> list[OpSpec]:
    """Every op of NAS-Bench-201 networks at these batch sizes, for one dataset."""
    ops: list[OpSpec] = []
    for batch in batches:
        for channels, res in stages(n_classes):
            ops.extend(cell_ops(channels, res, batch).values())
        ops.extend(skeleton_ops(batch, n_classes))
    return ops


@register_space("nasbench201", paper="NAS-Bench-201 (Dong & Yang, ICLR 2020)", default_size="paper")
def nasbench201_ops(size: str) -> list[OpSpec]:
    """NAS-Bench-201 cell ops at its three CIFAR stages, plus its fixed skeleton."""
    return space_ops((1,) if size == "small" else (1, 64))
