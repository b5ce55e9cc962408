"""MS-NAS / RT-DNAS networks: a union of input-to-output paths through the layers × scales
backbone, every cell running one shared 3-block cell structure then its scaling op.

Structure (RT-DNAS Sect. 2, ops from ``latbench.spaces.msnas``): the stem brings the frame to
scale 0; a *path* is ``N_LAYERS`` cells, each contracting, non-scaling or expanding, from scale
0 back to scale 0 (the head's scale). A network is ``n_paths`` paths; a cell shared by several
paths (same layer, input scale and type) runs once, and a node (layer, scale) sums the cells
ending there — RT-DNAS' "overlapping segments counted once". A cell: X_0 is its input, block
X_i (i = 1..3) sums two (input X_j, op) pairs with j < i, the cell's output is X_3 followed by
the scaling op; blocks that do not reach X_3 are dropped. All cells share one structure
(the cell types differ only in their scaling op, RT-DNAS Sect. 2.1).

Assumptions (the papers do not state them): two inputs per block (DARTS' discretisation); for
sampling, 1..2 paths (small) or 1..8 (paper, RT-DNAS reports up to n = 8), each path a
uniform random walk over the legal cell types that can still return to scale 0.

Genotype: ``<cell>;<path>,<path>,...`` with the cell as ``op~j+op~j|...`` per block (``|``
between blocks) and a path as one letter per layer: c(ontracting), n(on-scaling), e(xpanding).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latbench.archs.graph import INPUT, Architecture, Edge
from latbench.archs.registry import register_sampler
from latbench.errors import LatbenchError
from latbench.spaces.msnas import (
    BLOCKS_PER_CELL,
    CELL_TYPES,
    N_LAYERS,
    OP_NAMES,
    SPACE,
    cell_ops,
    head_ops,
    legal_cell_types,
    scaling_ops,
    stem_op,
)

Cell = tuple[tuple[tuple[int, str], ...], ...]  # per block X_1..X_3: (input j, op name) pairs
INPUTS_PER_BLOCK = 2
MAX_PATHS = {"small": 2, "paper": 8}
_STEP = {"contracting": 1, "non_scaling": 0, "expanding": -1}
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


def check(cell: Cell, paths: Sequence[Sequence[str]], size: str) -> None:
    """Raise ``LatbenchError`` unless ``cell`` and ``paths`` are legal in this space."""
    for i, block in enumerate(cell, start=1):
        if not block or any(not 0 <= j < i or op not in OP_NAMES for j, op in block):
            raise LatbenchError(
                f"msnas: block X_{i} {block!r} must read X_0..X_{i - 1} with "
                f"ops among {', '.join(OP_NAMES)}"
            )
    if not paths:
        raise LatbenchError("msnas: a network needs at least one path")
    for path in paths:
        scale = 0
        for cell_type in path:
            if cell_type not in legal_cell_types(scale, size):
                raise LatbenchError(
                    f"msnas ({size}): path {path!r}: a {cell_type!r} cell cannot "
                    f"start at scale {scale}; legal: "
                    f"{', '.join(legal_cell_types(scale, size))}"
                )
            scale += _STEP[cell_type]
        if len(path) != N_LAYERS or scale != 0:
            raise LatbenchError(
                f"msnas: path {path!r} must have {N_LAYERS} cells and end at "
                f"scale 0 (ends at {scale})"
            )


def genotype_string(cell: Cell, paths: Sequence[Sequence[str]]) -> str:
    blocks = "|".join("+".join(f"{op}~{j}" for j, op in block) for block in cell)
    return blocks + ";" + ",".join("".join(_LETTER[t] for t in p) for p in paths)


def _cells(paths: Sequence[Sequence[str]]) -> list[tuple[int, int, str]]:
    """The distinct (layer, input scale, type) cells of the paths, in execution order."""
    cells = set()
    for path in paths:
        scale = 0
        for layer, cell_type in enumerate(path, start=1):
            cells.add((layer, scale, cell_type))
            scale += _STEP[cell_type]
    return sorted(cells, key=lambda c: (c[0], c[1], CELL_TYPES.index(c[2])))


def build_network(cell: Cell, paths: Sequence[Sequence[str]], size: str = "small") -> Architecture:
    """The network of the union of ``paths`` whose cells all run ``cell``."""
    check(cell, paths, size)
    edges = [Edge((INPUT,), "N0s0", stem_op(size))]
    structure = live_edges(cell)
    for layer, scale, cell_type in _cells(paths):
        prefix = f"c{layer}s{scale}{_LETTER[cell_type]}"
        block = [f"N{layer - 1}s{scale}", *(f"{prefix}x{i}" for i in range(1, len(cell) + 1))]
        ops = cell_ops(scale, size)
        edges += [Edge((block[j],), block[i], ops[op]) for j, i, op in structure]
        src = block[len(cell)]
        scaling = scaling_ops(cell_type, scale, size)
        for k, op in enumerate(scaling):
            last = k == len(scaling) - 1
            dst = f"N{layer}s{scale + _STEP[cell_type]}" if last else f"{prefix}r{k}"
            edges.append(Edge((src,), dst, op))
            src = dst
    src = f"N{N_LAYERS}s0"
    for k, op in enumerate(head_ops(size)):
        edges.append(Edge((src,), f"head{k}", op))
        src = f"head{k}"
    return Architecture(
        SPACE, tuple(edges), src, genotype=genotype_string(cell, paths), meta={"size": size}
    )


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
