"""DiNTS / HyperSegNAS: the multi-scale, multi-path 3D segmentation topology space.

12 layers × 4 scales (32/64/128/256 channels at 1/2..1/16 of a 96³ patch; small: 3 scales of
8/16/32 at 16³/8³/4³ of a 32³ patch), 10 edges per layer (``edges``). An edge resamples its input
to the target scale (factorized reduction down; ×2 trilinear up-sampling + ReLU-Conv1×1×1-IN up),
then applies skip or ReLU-Conv3×3×3-IN, and for DiNTS also the P3D ops 3×3×1, 3×1×3, 1×3×3
(HyperSegNAS has only the first two, ``HYPERSEG_OP_NAMES``); edges into a node are summed. The
fixed ops follow MONAI's DiNTS, which both papers use (``channel_mul`` 0.5, ``use_downsample``):
per scale a stem from the patch, a decoder stem back up, and a final ReLU-Conv-IN + 1×1×1
classifier (3 classes, MSD pancreas). Training memory: ``spec.replace(mode="train")``.

A network runs the stems of the scales its first layer reads (MONAI also runs the unused ones and
zeroes them), each layer's active edges, and the decoder stem from the deepest active output
scale up. Sampling follows HyperSegNAS (Sect. 4): feasible edges (active source) switched on with
probability 1/2, at least one per layer, ops uniform; dead ends are then pruned.

Genotype: one group per layer, ``|``-separated, one character per edge of ``edges(size)``:
``-`` off, else the index of its op in ``op_names``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from latbench.architecture import INPUT, Architecture
from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.papers.chain import Chain
from latbench.spaces.registry import for_size, register_sampler, register_space

SPACE = "dints"
N_LAYERS = 12
P3D_KERNELS = {"conv_3x3x1": (3, 3, 1), "conv_3x1x3": (3, 1, 3), "conv_1x3x3": (1, 3, 3)}
OP_NAMES = ("skip_connect", "conv_3x3x3", *P3D_KERNELS)
HYPERSEG_OP_NAMES = ("skip_connect", "conv_3x3x3")
N_CLASSES = 3
IN_CHANNELS = 1
BATCH = 1
_RCN: dict[str, Any] = dict(norm="in", act="relu", act_first=True)  # ReLU-Conv-IN


@dataclass(frozen=True)
class Config:
    patch: int
    filters: tuple[int, ...]  # MONAI's filter_nums: stems use filters[d], scale d filters[d+1]


CONFIGS = {"paper": Config(96, (16, 32, 64, 128, 256)), "small": Config(32, (4, 8, 16, 32))}


def scales(size: str) -> list[tuple[int, int]]:
    """(channels, resolution) of every scale of the searched topology."""
    cfg = for_size(SPACE, size, CONFIGS)
    return [(c, cfg.patch // 2 ** (d + 1)) for d, c in enumerate(cfg.filters[1:])]


def edges(size: str) -> list[tuple[int, int]]:
    """The (source scale, target scale) of every edge of a layer (10 for 4 scales)."""
    n = len(scales(size))
    return [(src, dst) for dst in range(n) for src in (dst - 1, dst, dst + 1) if 0 <= src < n]


def _shape(scale: int, size: str, channels: int | None = None) -> tuple[int, ...]:
    c, r = scales(size)[scale]
    return (BATCH, c if channels is None else channels, r, r, r)


def edge_ops(scale: int, size: str, p3d: bool = True) -> dict[str, OpSpec]:
    """The candidate ops at ``scale`` by name; ``p3d=False`` gives HyperSegNAS' two."""
    shape = _shape(scale, size)
    ops = {
        "skip_connect": OpSpec.make("identity", shape),
        "conv_3x3x3": OpSpec.make("conv", shape, kernel=3, **_RCN),
    }
    p3d_ops = {
        name: OpSpec.make("p3d", shape, kernel=k, norm="in") for name, k in P3D_KERNELS.items()
    }
    return {**ops, **p3d_ops} if p3d else ops


def resample_ops(src: int, dst: int, size: str) -> list[OpSpec]:
    """The ops bringing an edge's input from scale ``src`` to ``dst`` (an ``edges`` pair)."""
    if src == dst:
        return []
    channels, _ = scales(size)[dst]
    if dst == src + 1:
        return [OpSpec.make("factorized_reduce", _shape(src, size), out=channels, norm="in")]
    c_src, _ = scales(size)[src]
    return [
        OpSpec.make("upsample", _shape(src, size), scale=2),
        OpSpec.make("conv", _shape(dst, size, channels=c_src), out=channels, kernel=1, **_RCN),
    ]


def stem_down_ops(scale: int, size: str) -> list[OpSpec]:
    """Patch -> scale: down-sampling by 2^scale, 3×3×3 conv-IN-ReLU, 3×3×3/2 conv-IN."""
    cfg = for_size(SPACE, size, CONFIGS)
    patch = (BATCH, IN_CHANNELS, *(cfg.patch,) * 3)
    res = cfg.patch // 2**scale
    ops = [OpSpec.make("upsample", patch, scale=0.5**scale)] if scale else []
    c_in, c_mid, c_out = IN_CHANNELS, cfg.filters[scale], cfg.filters[scale + 1]
    return ops + [
        OpSpec.make(
            "conv", (BATCH, c_in, res, res, res), out=c_mid, kernel=3, norm="in", act="relu"
        ),
        OpSpec.make(
            "conv", (BATCH, c_mid, res, res, res), out=c_out, kernel=3, stride=2, norm="in"
        ),
    ]


def stem_up_ops(scale: int, size: str) -> list[OpSpec]:
    """Scale -> the resolution above: ReLU-Conv3×3×3-IN to the stem width, ×2 up-sampling."""
    cfg = for_size(SPACE, size, CONFIGS)
    out = cfg.filters[scale]
    _, res = scales(size)[scale]
    return [
        OpSpec.make("conv", _shape(scale, size), out=out, kernel=3, **_RCN),
        OpSpec.make("upsample", (BATCH, out, res, res, res), scale=2),
    ]


def final_ops(size: str) -> list[OpSpec]:
    """ReLU-Conv3×3×3-IN and the 1×1×1 classifier at the patch's resolution."""
    cfg = for_size(SPACE, size, CONFIGS)
    shape = (BATCH, cfg.filters[0], *(cfg.patch,) * 3)
    return [
        OpSpec.make("conv", shape, kernel=3, **_RCN),
        OpSpec.make("conv", shape, out=N_CLASSES, kernel=1, bias=True),
    ]


@register_space(SPACE, paper="DiNTS / HyperSegNAS (3D segmentation topology search)")
def dints_ops(size: str) -> list[OpSpec]:
    """Edge candidates (skip, 3×3×3, P3D) and resampling at every scale, stems and head."""
    ops: list[OpSpec] = []
    for scale in range(len(scales(size))):
        ops += stem_down_ops(scale, size)
        ops += edge_ops(scale, size).values()
    for src, dst in edges(size):
        ops += resample_ops(src, dst, size)
    for scale in range(len(scales(size))):
        ops += stem_up_ops(scale, size)
    return ops + final_ops(size)


Codes = Sequence[Sequence[int | None]]  # per layer, per edge: op index or None (off)


def _node(layer: int, scale: int) -> str:
    return f"L{layer}s{scale}"


def check_codes(codes: Codes, size: str, n_ops: int) -> None:
    """Raise ``LatbenchError`` unless ``codes`` is a connected topology of ``N_LAYERS`` layers."""
    pairs = edges(size)
    if len(codes) != N_LAYERS or any(len(layer) != len(pairs) for layer in codes):
        raise LatbenchError(
            f"dints ({size}): codes must be {N_LAYERS} layers of {len(pairs)} "
            f"edges each; got {[len(layer) for layer in codes]}"
        )
    active = set(range(len(scales(size))))
    for layer, row in enumerate(codes, start=1):
        on = [(pairs[j], c) for j, c in enumerate(row) if c is not None]
        if not on:
            raise LatbenchError(f"dints: layer {layer} has no active edge; every layer needs one")
        bad = [c for _, c in on if not 0 <= c < n_ops]
        dead = [p for p, _ in on if p[0] not in active]
        if bad or dead:
            raise LatbenchError(
                f"dints: layer {layer}: op indices {bad} outside 0..{n_ops - 1} "
                f"or edges {dead} read scales with no input"
            )
        active = {dst for (_, dst), _ in on}


def genotype_string(codes: Codes) -> str:
    return "|".join("".join("-" if c is None else str(c) for c in row) for row in codes)


def build_network(
    codes: Codes, size: str = "small", op_names: Sequence[str] = OP_NAMES
) -> Architecture:
    """The network of ``codes`` (see module doc); ``op_names`` indexes the codes' ops."""
    check_codes(codes, size, len(op_names))
    pairs, b = edges(size), Chain("t")
    used = {pairs[j][0] for j, c in enumerate(codes[0]) if c is not None}
    for scale in sorted(used):
        b.add(INPUT, stem_down_ops(scale, size), _node(0, scale))
    for layer, row in enumerate(codes, start=1):
        for j, c in enumerate(row):
            if c is not None:
                src, dst = pairs[j]
                ops = [*resample_ops(src, dst, size), edge_ops(dst, size)[op_names[c]]]
                b.add(_node(layer - 1, src), ops, _node(layer, dst))
    out = sorted({pairs[j][1] for j, c in enumerate(codes[-1]) if c is not None})
    for scale in range(out[-1], 0, -1):  # decoder stem: deepest output up to scale 0
        b.add(_node(N_LAYERS, scale), stem_up_ops(scale, size), _node(N_LAYERS, scale - 1))
    b.add(_node(N_LAYERS, 0), [*stem_up_ops(0, size), *final_ops(size)], "out")
    return Architecture(
        SPACE,
        tuple(b.edges),
        "out",
        genotype=genotype_string(codes),
        meta={"size": size, "op_names": list(op_names)},
    )


def _prune_dead_ends(codes: list[list[int | None]], size: str) -> None:
    """Switch off edges into nodes that no edge of the next layer reads (in place)."""
    pairs = edges(size)
    for layer in range(N_LAYERS - 2, -1, -1):
        read = {pairs[j][0] for j, c in enumerate(codes[layer + 1]) if c is not None}
        codes[layer] = [c if pairs[j][1] in read else None for j, c in enumerate(codes[layer])]


def sample_codes(
    size: str, rng: np.random.Generator, n_ops: int = len(OP_NAMES)
) -> list[list[int | None]]:
    """HyperSegNAS' sampling: feasible edges on with p=1/2, >= 1 per layer, uniform ops."""
    pairs = edges(size)
    active, codes = set(range(len(scales(size)))), []
    for _ in range(N_LAYERS):
        feasible = [j for j, (src, _) in enumerate(pairs) if src in active]
        on = [j for j in feasible if rng.random() < 0.5] or [int(rng.choice(feasible))]
        ops = rng.integers(0, n_ops, size=len(on))
        row: list[int | None] = [None] * len(pairs)
        for j, op in zip(on, ops):
            row[j] = int(op)
        codes.append(row)
        active = {pairs[j][1] for j in on}
    _prune_dead_ends(codes, size)
    return codes


@register_sampler(SPACE)
def sample(size: str, rng: np.random.Generator) -> Architecture:
    """A DiNTS network (skip, 3×3×3 and the three P3D ops on the edges)."""
    return build_network(sample_codes(size, rng), size)
