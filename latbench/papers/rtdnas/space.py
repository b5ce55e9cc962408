"""MS-NAS / RT-DNAS: multi-scale cells on fixed tensor shapes (2D cine-MRI frames).

The skeleton (RT-DNAS Sect. 2, 3.1): 10 layers, 3 cell types (expanding, non-scaling,
contracting), 3 blocks per cell. A cell runs its candidate ops at its input scale (X_0 ->
X_1..X_3, each edge one op of ``OP_NAMES``), then a scaling op S_cell: max-pool ×2 (contracting),
bilinear up-sampling ×2 (expanding) or identity (non-scaling).

Assumptions (the papers do not give them): ACDC frames of 1×256×256; a 3×3 stride-2
conv-BN-ReLU stem to 32 channels at 128²; scale s has 32·2^s channels at 128/2^s (4 scales);
the candidates are DARTS' (MS-NAS builds on it) without 'none', sep convs single, not doubled;
a scale change ends with a ReLU-Conv1×1-BN to the new scale's channels (part of S_cell); the
head is a 1×1 conv to 4 classes (background, RV, MYO, LV) and ×2 bilinear up-sampling.
PC-DARTS' partial-channel supernet ops are not listed: the searches need the final network's.

A network is the union of ``n_paths`` paths of ``N_LAYERS`` cells from scale 0 back to scale 0
(sampled: 1..2 paths small, 1..8 paper, as RT-DNAS reports); a cell shared by several paths runs
once and a node (layer, scale) sums the cells ending there ("overlapping segments counted
once"). All cells share one structure: block X_i sums two (input X_j, op) pairs with j < i
(DARTS' discretisation), the output is X_3 then the scaling op; dead blocks are dropped.

Genotype: ``<cell>;<path>,<path>,...``, the cell as ``op~j+op~j|...`` per block (``|`` between
blocks) and a path as one letter per layer: c(ontracting), n(on-scaling), e(xpanding).
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
from latbench.spaces.registry import for_size, register_layout, register_sampler, register_space

SPACE = "msnas"
N_LAYERS = 10
BLOCKS_PER_CELL = 3
OP_NAMES = (
    "skip_connect",
    "max_pool_3x3",
    "avg_pool_3x3",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
_STEP = {"contracting": 1, "non_scaling": 0, "expanding": -1}  # scale change of a cell type
CELL_TYPES = tuple(_STEP)
N_CLASSES = 4
IN_CHANNELS = 1
BATCH = 1
_NOR: dict[str, Any] = dict(norm="bn", act="relu", act_first=True)  # DARTS' ReLU-Op-BN order


@dataclass(frozen=True)
class Config:
    image: int  # square frame side
    base: int  # channels at the first scale
    n_scales: int


CONFIGS = {"paper": Config(256, 32, 4), "small": Config(64, 8, 3)}


def scales(size: str) -> list[tuple[int, int]]:
    """(channels, resolution) of every scale; scale 0 is half the frame."""
    cfg = for_size(SPACE, size, CONFIGS)
    return [(cfg.base * 2**s, cfg.image // 2 // 2**s) for s in range(cfg.n_scales)]


def _shape(scale: int, size: str) -> tuple[int, int, int, int]:
    channels, res = scales(size)[scale]
    return (BATCH, channels, res, res)


def cell_ops(scale: int, size: str) -> dict[str, OpSpec]:
    """The candidate ops of an edge at ``scale``, by name (see OP_NAMES)."""
    shape = _shape(scale, size)
    return {
        "skip_connect": OpSpec.make("identity", shape),
        "max_pool_3x3": OpSpec.make("pool", shape, reduce="max", kernel=3, stride=1),
        "avg_pool_3x3": OpSpec.make("pool", shape, reduce="avg", kernel=3, stride=1),
        "sep_conv_3x3": OpSpec.make("sepconv", shape, kernel=3, **_NOR),
        "sep_conv_5x5": OpSpec.make("sepconv", shape, kernel=5, **_NOR),
        "dil_conv_3x3": OpSpec.make("sepconv", shape, kernel=3, dilation=2, **_NOR),
        "dil_conv_5x5": OpSpec.make("sepconv", shape, kernel=5, dilation=2, **_NOR),
    }


def legal_cell_types(scale: int, size: str) -> list[str]:
    """The cell types that can start at ``scale`` (no contracting at the last, ...)."""
    return [t for t in CELL_TYPES if 0 <= scale + _STEP[t] < len(scales(size))]


def scaling_ops(cell_type: str, scale: int, size: str) -> list[OpSpec]:
    """The ops of S_cell for a cell of ``cell_type`` whose input is at ``scale``."""
    if cell_type not in legal_cell_types(scale, size):
        raise LatbenchError(
            f"a {cell_type!r} cell cannot start at scale {scale}; legal there: "
            f"{', '.join(legal_cell_types(scale, size))}"
        )
    shape = _shape(scale, size)
    if cell_type == "non_scaling":
        return [OpSpec.make("identity", shape)]
    channels, res = scales(size)[scale + _STEP[cell_type]]
    resample = (
        OpSpec.make("pool", shape, reduce="max", kernel=2)
        if cell_type == "contracting"
        else OpSpec.make("upsample", shape, scale=2)
    )
    adapt = OpSpec.make("conv", (BATCH, shape[1], res, res), out=channels, kernel=1, **_NOR)
    return [resample, adapt]


def stem_op(size: str) -> OpSpec:
    """3×3 stride-2 conv-BN-ReLU from the frame to scale 0."""
    cfg = for_size(SPACE, size, CONFIGS)
    frame = (BATCH, IN_CHANNELS, cfg.image, cfg.image)
    return OpSpec.make("conv", frame, out=cfg.base, kernel=3, stride=2, norm="bn", act="relu")


def head_ops(size: str) -> list[OpSpec]:
    """1×1 classifier at scale 0, then ×2 bilinear up-sampling to the frame."""
    _, res = scales(size)[0]
    return [
        OpSpec.make("conv", _shape(0, size), out=N_CLASSES, kernel=1, bias=True),
        OpSpec.make("upsample", (BATCH, N_CLASSES, res, res), scale=2),
    ]


@register_space(SPACE, paper="RT-DNAS / MS-NAS (real-time DNAS, cardiac cine MRI)")
def msnas_ops(size: str) -> list[OpSpec]:
    """Cell candidates at every scale, the scaling ops of every legal cell, stem and head."""
    ops = [stem_op(size)]
    for scale in range(len(scales(size))):
        ops += cell_ops(scale, size).values()
        for cell_type in legal_cell_types(scale, size):
            ops += scaling_ops(cell_type, scale, size)
    return ops + head_ops(size)


MOVES = (-1, 0, 1)
"""Scale moves of a cell, in the order the RT-DNAS search indexes them: expanding (up ×2),
non-scaling, contracting (down ×2)."""
MOVE_CELL_TYPES = {step: cell_type for cell_type, step in _STEP.items()}


@dataclass(frozen=True)
class CellLayout:
    """What RT-DNAS needs: per scale the candidate ops by name (``OP_NAMES`` order) and per
    (scale, move in ``MOVES``) the ops of S_cell, or None where the move leaves the scales."""

    cell_ops: tuple[dict[str, OpSpec], ...]
    scaling: tuple[tuple[tuple[OpSpec, ...] | None, ...], ...]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The tensor a cell at scale 0 reads."""
        return next(iter(self.cell_ops[0].values())).input_shape


@register_layout(SPACE)
def layout(size: str) -> CellLayout:
    n = len(scales(size))
    scaling = tuple(
        tuple(
            tuple(scaling_ops(MOVE_CELL_TYPES[m], s, size)) if 0 <= s + m < n else None
            for m in MOVES
        )
        for s in range(n)
    )
    return CellLayout(tuple(cell_ops(s, size) for s in range(n)), scaling)


Cell = tuple[tuple[tuple[int, str], ...], ...]  # per block X_1..X_3: (input j, op name) pairs
INPUTS_PER_BLOCK = 2
MAX_PATHS = {"small": 2, "paper": 8}
_LETTER = {"contracting": "c", "non_scaling": "n", "expanding": "e"}


def live_edges(cell: Cell) -> list[tuple[int, int, str]]:
    """(input j, block i, op) of the cell's edges that lie on a path to X_3."""
    live, edges = {len(cell)}, []
    for i in range(len(cell), 0, -1):
        if i in live:
            for j, op in cell[i - 1]:
                edges.append((j, i, op))
                live.add(j)
    return sorted(edges, key=lambda e: (e[1], e[0], e[2]))


def genotype_string(cell: Cell, paths: Sequence[Sequence[str]]) -> str:
    blocks = "|".join("+".join(f"{op}~{j}" for j, op in block) for block in cell)
    return blocks + ";" + ",".join("".join(_LETTER[t] for t in p) for p in paths)


def cells(cell: Cell, paths: Sequence[Sequence[str]], size: str) -> list[tuple[int, int, str]]:
    """The distinct (layer, input scale, type) cells of ``paths``, in execution order;
    ``LatbenchError`` unless ``cell`` and ``paths`` are legal in this space."""
    for i, block in enumerate(cell, start=1):
        if not block or any(not 0 <= j < i or op not in OP_NAMES for j, op in block):
            raise LatbenchError(
                f"msnas: block X_{i} {block!r} must read X_0..X_{i - 1} with "
                f"ops among {', '.join(OP_NAMES)}"
            )
    if not paths:
        raise LatbenchError("msnas: a network needs at least one path")
    found = set()
    for path in paths:
        scale = 0
        for layer, cell_type in enumerate(path, start=1):
            if cell_type not in legal_cell_types(scale, size):
                raise LatbenchError(
                    f"msnas ({size}): path {path!r}: a {cell_type!r} cell cannot "
                    f"start at scale {scale}; legal: "
                    f"{', '.join(legal_cell_types(scale, size))}"
                )
            found.add((layer, scale, cell_type))
            scale += _STEP[cell_type]
        if len(path) != N_LAYERS or scale != 0:
            raise LatbenchError(
                f"msnas: path {path!r} must have {N_LAYERS} cells and end at "
                f"scale 0 (ends at {scale})"
            )
    return sorted(found, key=lambda c: (c[0], c[1], CELL_TYPES.index(c[2])))


def build_network(cell: Cell, paths: Sequence[Sequence[str]], size: str = "small") -> Architecture:
    """The network of the union of ``paths`` whose cells all run ``cell``."""
    todo, structure, g = cells(cell, paths, size), live_edges(cell), Chain()
    g.add(INPUT, [stem_op(size)], "N0s0")
    for layer, scale, cell_type in todo:
        prefix = f"c{layer}s{scale}{_LETTER[cell_type]}"
        block = [f"N{layer - 1}s{scale}", *(f"{prefix}x{i}" for i in range(1, len(cell) + 1))]
        for j, i, op in structure:
            g.add(block[j], [cell_ops(scale, size)[op]], block[i])
        scaled = f"N{layer}s{scale + _STEP[cell_type]}"
        g.add(block[len(cell)], scaling_ops(cell_type, scale, size), scaled)
    out = g.add(f"N{N_LAYERS}s0", head_ops(size))
    genotype = genotype_string(cell, paths)
    return Architecture(SPACE, tuple(g.edges), out, genotype=genotype, meta={"size": size})


def sample_cell(rng: np.random.Generator) -> Cell:
    """Each block: two distinct (input, op) pairs drawn uniformly."""
    blocks = []
    for i in range(1, BLOCKS_PER_CELL + 1):
        pairs = [(j, op) for j in range(i) for op in OP_NAMES]
        picks = rng.choice(len(pairs), size=INPUTS_PER_BLOCK, replace=False)
        blocks.append(tuple(sorted(pairs[int(p)] for p in picks)))
    return tuple(blocks)


def sample_path(size: str, rng: np.random.Generator) -> tuple[str, ...]:
    """A uniform walk over the legal cell types that can still end at scale 0."""
    scale, path = 0, []
    for layer in range(1, N_LAYERS + 1):
        left = N_LAYERS - layer
        types = [t for t in legal_cell_types(scale, size) if scale + _STEP[t] <= left]
        cell_type = types[int(rng.integers(len(types)))]
        path.append(cell_type)
        scale += _STEP[cell_type]
    return tuple(path)


@register_sampler(SPACE)
def sample(size: str, rng: np.random.Generator) -> Architecture:
    """A random shared cell and 1..MAX_PATHS[size] random paths."""
    cell = sample_cell(rng)
    n_paths = int(rng.integers(1, MAX_PATHS[size] + 1))
    return build_network(cell, [sample_path(size, rng) for _ in range(n_paths)], size)
