"""NAS-Bench-201 networks: stem, 3 stages of N cells, 2 residual reductions, head.

A cell is the benchmark's 4-node DAG (6 edges, each one of the five ops); the genotype string
uses the benchmark's own format ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.
"""

from __future__ import annotations

import numpy as np

from latbench.archs.graph import INPUT, Architecture, Edge
from latbench.archs.registry import register_sampler
from latbench.spaces.nasbench201 import (OP_NAMES, STAGES, cell_ops, head_ops, reduction_ops,
                                         stem_op)

CELL_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))  # (from, to) in genotype order
CELLS_PER_STAGE = {"small": 1, "paper": 5}


def genotype_string(cell: tuple[str, ...]) -> str:
    """``cell`` (six op names in CELL_EDGES order) in NAS-Bench-201's string format."""
    parts, i = [], 0
    for to in (1, 2, 3):
        parts.append("|" + "|".join(f"{cell[i + j]}~{j}" for j in range(to)) + "|")
        i += to
    return "+".join(parts)


def build_network(cell: tuple[str, ...], size: str = "small", batch: int = 1) -> Architecture:
    """The whole NAS-Bench-201 network whose every cell is ``cell``."""
    edges: list[Edge] = [Edge((INPUT,), "s0", stem_op(batch))]
    node, counter = "s0", 0

    def fresh() -> str:
        nonlocal counter
        counter += 1
        return f"n{counter}"

    for stage, (channels, res) in enumerate(STAGES):
        if stage > 0:
            conv_a, conv_b, pool, short = reduction_ops(*STAGES[stage - 1], batch)
            mid, pooled, out = fresh(), fresh(), fresh()
            edges += [Edge((node,), mid, conv_a), Edge((mid,), out, conv_b),
                      Edge((node,), pooled, pool), Edge((pooled,), out, short)]
            node = out
        ops = cell_ops(channels, res, batch)
        for _ in range(CELLS_PER_STAGE[size]):
            names = [node, fresh(), fresh(), fresh()]
            edges += [Edge((names[a],), names[b], ops[op]) for (a, b), op in zip(CELL_EDGES, cell)]
            node = names[3]
    for op in head_ops(batch):
        nxt = fresh()
        edges.append(Edge((node,), nxt, op))
        node = nxt
    return Architecture("nasbench201", tuple(edges), node, genotype=genotype_string(cell))


@register_sampler("nasbench201")
def sample(size: str, rng: np.random.Generator) -> Architecture:
    cell = tuple(str(OP_NAMES[i]) for i in rng.integers(0, len(OP_NAMES), size=6))
    return build_network(cell, size)
