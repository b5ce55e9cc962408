"""DiNTS / HyperSegNAS: the multi-scale, multi-path 3D segmentation topology space.

12 layers × 4 scales (32/64/128/256 channels at 1/2..1/16 of a 96³ patch), 10 edges per layer
(each scale fed from itself and its neighbours). An edge resamples its input to the target
scale — factorized reduction (ReLU, two shifted stride-2 1×1×1 convs, concat, IN) down,
×2 trilinear up-sampling + ReLU-Conv1×1×1-IN up, nothing across — then applies one op: skip or
ReLU-Conv3×3×3-IN, and for DiNTS also the P3D ops 3×3×1, 3×1×3, 1×3×3 (each a 2D conv then
the complementary 1D conv). Edges into a scale are summed. The fixed ops follow MONAI's DiNTS
(which the papers use; ``channel_mul`` 0.5, ``use_downsample``): per scale d a stem from the
patch (trilinear down-sampling by 2^d, 3×3×3 conv-IN-ReLU, 3×3×3 stride-2 conv-IN), a
decoder stem back up (ReLU-Conv3×3×3-IN, ×2 up-sampling) and a final ReLU-Conv-IN + 1×1×1
classifier (3 classes, MSD pancreas). HyperSegNAS measures training memory: build these
specs with ``spec.replace(mode="train")``.

Pieces for network builders and the memory filter (``size`` is "paper" or "small"):

- ``N_LAYERS``, ``OP_NAMES`` (DiNTS), ``HYPERSEG_OP_NAMES`` (skip and 3×3×3 only).
- ``scales(size)``: (channels, resolution) per scale; ``edges(size)``: (from, to) per edge.
- ``edge_ops(scale, size, p3d=True)``: name -> OpSpec of the candidates at a scale.
- ``resample_ops(src, dst, size)``: the ops that bring an edge from scale src to dst.
- ``stem_down_ops(scale)``, ``stem_up_ops(scale)``, ``final_ops``: the fixed ops.

Small size: 3 scales of 8/16/32 channels at 16³/8³/4³ of a 32³ patch.
"""

from __future__ import annotations

from dataclasses import dataclass

from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.spaces._sizes import for_size
from latbench.spaces.registry import register_space

SPACE = "dints"
N_LAYERS = 12
P3D_KERNELS = {"conv_3x3x1": (3, 3, 1), "conv_3x1x3": (3, 1, 3), "conv_1x3x3": (1, 3, 3)}
OP_NAMES = ("skip_connect", "conv_3x3x3", *P3D_KERNELS)
HYPERSEG_OP_NAMES = ("skip_connect", "conv_3x3x3")
N_CLASSES = 3
IN_CHANNELS = 1
BATCH = 1
_RCN = dict(norm="in", act="relu", act_first=True)  # ReLU-Conv-IN


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
    if p3d:
        ops.update(
            {
                name: OpSpec.make("p3d", shape, kernel=k, norm="in")
                for name, k in P3D_KERNELS.items()
            }
        )
    return ops


def resample_ops(src: int, dst: int, size: str) -> list[OpSpec]:
    """The ops bringing an edge's input from scale ``src`` to ``dst`` (none when equal)."""
    if (src, dst) not in edges(size):
        raise LatbenchError(f"no edge from scale {src} to {dst}; valid: {edges(size)}")
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
    return ops + [
        OpSpec.make(
            "conv",
            (BATCH, IN_CHANNELS, res, res, res),
            out=cfg.filters[scale],
            kernel=3,
            norm="in",
            act="relu",
        ),
        OpSpec.make(
            "conv",
            (BATCH, cfg.filters[scale], res, res, res),
            out=cfg.filters[scale + 1],
            kernel=3,
            stride=2,
            norm="in",
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
