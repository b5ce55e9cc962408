"""CAKES: channel-wise shrinking of 3×3×3 kernels into 1D/2D/3D sub-kernels (96³ MSD patches).

Each output channel of a backbone 3×3×3 conv picks one sub-kernel of ``SUBKERNELS``; the
super-network concatenates their outputs and aggregates them by a 1×1×1 conv (Sect. 3.4). The
lasso's β_i is the sub-kernel's cost: parameters (the paper's 9/13, 3/13, 1/13) or the latency of
the sub-kernel convs listed here, bare (no norm/activation) and producing all C channels.

Assumptions (C2FNAS' topology is not in the paper): a U-shaped backbone of 4 scales, 32/64/128/256
channels at 48³/24³/12³/6³ (DiNTS' space, which C2FNAS shares); stem 3×3×3 stride-2 + 3×3×3
conv-IN-ReLU; head 3×3×3 conv-IN-ReLU, 1×1×1 classifier to 3 classes (MSD pancreas), ×2
up-sampling; scales joined by 3×3×3 stride-2 conv-IN-ReLU (down) and ×2 up-sampling + 1×1×1
conv-IN-ReLU (up). In a network, a decoder node sums the scale below and a searchable lateral
conv of the encoder (FPN-style: the space lists no identity). Left out: CAKES' channel-wise
split within one layer, which needs a channel concatenation that no op kind provides.

Genotype: the sub-kernel (e.g. ``1x3x3``) of every searchable conv, comma-separated, encoder
convs first (scale 0 up), then decoder convs (deepest scale first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from latbench.architecture import INPUT, Architecture
from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.papers.chain import Chain
from latbench.spaces.registry import for_size, register_layout, register_sampler, register_space

SPACE = "cakes"
SUBKERNELS: tuple[tuple[int, int, int], ...] = (
    (1, 1, 3),
    (1, 3, 1),
    (3, 1, 1),
    (1, 3, 3),
    (3, 1, 3),
    (3, 3, 1),
    (3, 3, 3),
)
N_CLASSES = 3
IN_CHANNELS = 1
BATCH = 1
_IN = dict(norm="in", act="relu")


@dataclass(frozen=True)
class Config:
    patch: int
    base: int
    n_scales: int


CONFIGS = {"paper": Config(96, 32, 4), "small": Config(32, 8, 3)}


def subkernel_name(kernel: tuple[int, int, int]) -> str:
    return "x".join(map(str, kernel))


def subkernel_dims(kernel: tuple[int, int, int]) -> int:
    """1, 2 or 3: how many axes the sub-kernel spans."""
    return sum(k > 1 for k in kernel)


def scales(size: str) -> list[tuple[int, int]]:
    """(channels, resolution) per scale; scale 0 is half the patch."""
    cfg = for_size(SPACE, size, CONFIGS)
    return [(cfg.base * 2**s, cfg.patch // 2 // 2**s) for s in range(cfg.n_scales)]


def _shape(scale: int, size: str, channels: int | None = None) -> tuple[int, ...]:
    c, r = scales(size)[scale]
    return (BATCH, c if channels is None else channels, r, r, r)


def subkernel_ops(scale: int, size: str) -> dict[str, OpSpec]:
    """The 7 sub-kernel convs at ``scale``, each producing all C channels."""
    shape = _shape(scale, size)
    return {subkernel_name(k): OpSpec.make("conv", shape, kernel=k) for k in SUBKERNELS}


def aggregate_op(scale: int, size: str) -> OpSpec:
    """1×1×1 conv-IN-ReLU aggregating the concatenated sub-kernel outputs (super-network)."""
    return OpSpec.make("conv", _shape(scale, size), kernel=1, **_IN)


def stem_ops(size: str) -> list[OpSpec]:
    """3×3×3 stride-2 conv from the patch to scale 0, then a 3×3×3 conv (kept by CAKES)."""
    cfg = for_size(SPACE, size, CONFIGS)
    return [
        OpSpec.make(
            "conv", (BATCH, IN_CHANNELS, *(cfg.patch,) * 3), out=cfg.base, kernel=3, stride=2, **_IN
        ),
        OpSpec.make("conv", _shape(0, size), kernel=3, **_IN),
    ]


def down_op(scale: int, size: str) -> OpSpec:
    """From ``scale`` to ``scale + 1``: 3×3×3 stride-2 conv doubling the channels."""
    channels, _ = scales(size)[scale + 1]
    return OpSpec.make("conv", _shape(scale, size), out=channels, kernel=3, stride=2, **_IN)


def up_ops(scale: int, size: str) -> list[OpSpec]:
    """From ``scale`` to ``scale - 1``: ×2 trilinear up-sampling, 1×1×1 conv halving channels."""
    channels, _ = scales(size)[scale - 1]
    c, _ = scales(size)[scale]
    return [
        OpSpec.make("upsample", _shape(scale, size), scale=2),
        OpSpec.make("conv", _shape(scale - 1, size, channels=c), out=channels, kernel=1, **_IN),
    ]


def head_ops(size: str) -> list[OpSpec]:
    """The last two convolutions (3×3×3, 1×1×1 classifier) and ×2 up-sampling to the patch."""
    _, res = scales(size)[0]
    return [
        OpSpec.make("conv", _shape(0, size), kernel=3, **_IN),
        OpSpec.make("conv", _shape(0, size), out=N_CLASSES, kernel=1, bias=True),
        OpSpec.make("upsample", (BATCH, N_CLASSES, res, res, res), scale=2),
    ]


@register_space(SPACE, paper="CAKES (channel-wise automatic kernel shrinking, 3D)")
def cakes_ops(size: str) -> list[OpSpec]:
    """The 7 sub-kernels and the aggregation conv per scale, stem, scale changes, head."""
    ops = stem_ops(size)
    n_scales = len(scales(size))
    for scale in range(n_scales):
        ops += subkernel_ops(scale, size).values()
        ops.append(aggregate_op(scale, size))
        if scale < n_scales - 1:
            ops.append(down_op(scale, size))
        if scale > 0:
            ops += up_ops(scale, size)
    return ops + head_ops(size)


@dataclass(frozen=True)
class CakesLayout:
    """The searched layer of the CPU-sized CAKES run: the 7 sub-kernel convs at scale 0, by
    name (``subkernel_name``), each producing all ``out_channels``."""

    candidates: dict[str, OpSpec]
    out_channels: int


@register_layout(SPACE)
def layout(size: str) -> CakesLayout:
    return CakesLayout(subkernel_ops(0, size), scales(size)[0][0])


CONVS = {"small": 1, "paper": 2}  # searchable convs per scale and direction
NAMES = tuple(subkernel_name(k) for k in SUBKERNELS)


def n_layers(size: str) -> int:
    """Searchable convs of a network: every scale in the encoder, all but the deepest after."""
    n = len(scales(size))
    return CONVS[size] * (2 * n - 1)


def build_network(choice: Sequence[str], size: str = "small") -> Architecture:
    """The network whose ``i``-th searchable conv runs sub-kernel ``choice[i]``."""
    if len(choice) != n_layers(size) or any(c not in NAMES for c in choice):
        raise LatbenchError(
            f"cakes ({size}): choice must name {n_layers(size)} sub-kernels "
            f"among {', '.join(NAMES)}; got {list(choice)!r}"
        )
    picks, k, n = iter(choice), CONVS[size], len(scales(size))

    def convs(scale: int, m: int) -> list[OpSpec]:
        return [subkernel_ops(scale, size)[next(picks)] for _ in range(m)]

    g = Chain()
    node, enc = g.add(INPUT, stem_ops(size)), []
    for s in range(n):
        enc.append(g.add(node, convs(s, k)))
        if s < n - 1:
            node = g.add(enc[s], [down_op(s, size)])
    node = enc[-1]
    for s in range(n - 2, -1, -1):
        fused = f"d{s}"
        g.add(node, up_ops(s + 1, size), fused)
        g.add(enc[s], convs(s, 1), fused)
        node = g.add(fused, convs(s, k - 1)) if k > 1 else fused
    out = g.add(node, head_ops(size))
    return Architecture(SPACE, tuple(g.edges), out, genotype=",".join(choice), meta={"size": size})


@register_sampler(SPACE)
def sample(size: str, rng: np.random.Generator) -> Architecture:
    """Every searchable conv's sub-kernel uniformly among the seven."""
    idx = rng.integers(0, len(NAMES), size=n_layers(size))
    return build_network([NAMES[int(i)] for i in idx], size)
