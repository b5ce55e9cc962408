"""DiNTS / HyperSegNAS networks: stems, 12 layers of multi-scale edges, the decoder stem, head.

Structure (MONAI's DiNTS, which both papers use; ops from ``latbench.spaces.dints``):

- a stem per scale whose layer-0 node feeds an active edge (patch -> that scale); MONAI
  also runs the stems of unused scales and zeroes them, a deployed network drops them;
- each layer's active edges: resampling to the target scale (none across), then the edge op;
  a node is the sum of its incoming edges;
- the decoder stem from the deepest active output scale up: ReLU-Conv-IN + ×2 up-sampling,
  added into the next scale's output (MONAI's ``stem_up``), then the final conv and classifier.

Sampling follows HyperSegNAS (Sect. 4): an edge is feasible when its source node is active;
feasible edges are switched on with probability 1/2 and ops drawn uniformly, with at least one
edge per layer so the network keeps all 12 layers; dead ends (nodes no later edge reads) are
then pruned, so every edge lies on an input-to-output path.

Genotype: one group per layer, ``|``-separated, one character per edge of
``latbench.spaces.dints.edges(size)``: ``-`` off, else the index of its op in ``op_names``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latbench.archs.graph import INPUT, Architecture, Edge
from latbench.archs.registry import register_sampler
from latbench.errors import LatbenchError
from latbench.spaces.dints import (
    N_LAYERS,
    OP_NAMES,
    SPACE,
    edge_ops,
    edges,
    final_ops,
    resample_ops,
    scales,
    stem_down_ops,
    stem_up_ops,
)

Codes = Sequence[Sequence[int | None]]  # per layer, per edge: op index or None (off)


def _node(layer: int, scale: int) -> str:
    return f"L{layer}s{scale}"


class _Builder:
    """Appends chains of ops as edges, naming intermediate nodes uniquely."""

    def __init__(self) -> None:
        self.edges: list[Edge] = []

    def chain(self, src: str, ops: Sequence, dst: str) -> None:
        for i, op in enumerate(ops):
            out = dst if i == len(ops) - 1 else f"t{len(self.edges)}"
            self.edges.append(Edge((src,), out, op))
            src = out


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
    pairs, b = edges(size), _Builder()
    used = {pairs[j][0] for j, c in enumerate(codes[0]) if c is not None}
    for scale in sorted(used):
        b.chain(INPUT, stem_down_ops(scale, size), _node(0, scale))
    for layer, row in enumerate(codes, start=1):
        for j, c in enumerate(row):
            if c is not None:
                src, dst = pairs[j]
                ops = [*resample_ops(src, dst, size), edge_ops(dst, size)[op_names[c]]]
                b.chain(_node(layer - 1, src), ops, _node(layer, dst))
    out = sorted({pairs[j][1] for j, c in enumerate(codes[-1]) if c is not None})
    for scale in range(out[-1], 0, -1):  # decoder stem: deepest output up to scale 0
        b.chain(_node(N_LAYERS, scale), stem_up_ops(scale, size), _node(N_LAYERS, scale - 1))
    b.chain(_node(N_LAYERS, 0), [*stem_up_ops(0, size), *final_ops(size)], "out")
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
