"""Dynamic-cell networks: the per-frame work of a video segmenter — the MobileNet-v2 encoder
on the frame plus a sampled dynamic cell in place of the decoder (ops from
``latbench.spaces.dyncell``).

A cell has ``N_STEPS`` steps (the space's head covers one or two outputs, i.e. two steps):
each picks two inputs from the pool (the five inputs, then the earlier steps' results; with
replacement), applies one op to each at its own stride (inputs first projected to 64
channels), up-samples the coarser result to the finer stride and aggregates the two. Results
no later step reads are the outputs: brought to stride 8, two of them concatenated and fused
back to 64 channels, then the classifier and ×8 up-sampling.

Timing stand-ins, same shapes hence the same work: *prev_layer4* and *dec* are the previous
frame's state, so the network reads the current frame's *layer4* (then projects it again, as
the cell does) and the projected *layer2* (64 ch at 1/8; *dec* costs nothing to fetch). The
concatenation + 1×1 fusion of two outputs is the space's ``concat_conv`` aggregation at stride
8 (concat + 1×1 conv 128 -> 64, no BN-ReLU): no op kind concatenates alone, so the space's
128-channel fusion conv-BN-ReLU cannot be wired; the difference is one BN-ReLU on 64 channels.

Genotype: steps ``|``-separated, each ``in_a:op_a+in_b:op_b>aggregation`` with step results
named ``cell0``, ``cell1``, ...
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latbench.archs.graph import INPUT, Architecture, Edge
from latbench.archs.registry import register_sampler
from latbench.errors import LatbenchError
from latbench.spaces.dyncell import (
    AGG_NAMES,
    INPUTS,
    OP_NAMES,
    SPACE,
    aggregation_ops,
    cell_ops,
    encoder_ops,
    head_ops,
    projection_op,
    resize_op,
)

N_STEPS = 2
Step = tuple[str, str, str, str, str]  # input a, op a, input b, op b, aggregation
_STAND_IN = {"prev_layer4": "layer4"}  # previous-frame state timed with the current frame's


class _Graph:
    def __init__(self, size: str) -> None:
        self.size, self.edges, self.nodes = size, [], {}  # nodes: name -> (node, stride)

    def add(self, src: tuple[str, ...], op, dst: str | None = None) -> str:  # noqa: ANN001
        dst = dst or f"t{len(self.edges)}"
        self.edges.append(Edge(src, dst, op))
        return dst

    def encoder(self) -> None:
        """The MobileNet-v2 encoder; records the raw layer2/3/4 outputs."""
        node, raw = INPUT, {}
        for i, op in enumerate(encoder_ops(self.size)):
            node = self.add((node,), op, f"enc{i}")
            for layer in ("layer2", "layer3", "layer4"):  # the last block of that width
                if op.p["out"] == INPUTS[layer][0]:
                    raw[layer] = node
        self.raw = raw

    def cell_input(self, name: str) -> tuple[str, int]:
        """The 64-channel node of a cell input (projected on first use) and its stride."""
        if name not in self.nodes:
            if name == "dec":
                self.nodes[name] = (self.cell_input("layer2")[0], INPUTS["dec"][1])
            else:
                raw = self.raw[_STAND_IN.get(name, name)]
                proj = projection_op(name, self.size)
                self.nodes[name] = (self.add((raw,), proj), INPUTS[name][1])
        return self.nodes[name]

    def to_stride(self, node: str, src: int, dst: int) -> str:
        return node if src == dst else self.add((node,), resize_op(src, dst, self.size))


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
    g.encoder()
    for i, (a, op_a, b, op_b, agg) in enumerate(steps):
        (na, sa), (nb, sb) = g.cell_input(a), g.cell_input(b)
        na, nb = g.add((na,), cell_ops(sa, size)[op_a]), g.add((nb,), cell_ops(sb, size)[op_b])
        fine = min(sa, sb)
        na, nb = g.to_stride(na, sa, fine), g.to_stride(nb, sb, fine)
        g.nodes[f"cell{i}"] = (g.add((na, nb), aggregation_ops(fine, size)[agg]), fine)
    outs = [g.to_stride(*g.nodes[name], 8) for name in outputs(steps)]
    node = (
        outs[0] if len(outs) == 1 else g.add(tuple(outs), aggregation_ops(8, size)["concat_conv"])
    )
    for op in head_ops(1, size):
        node = g.add((node,), op)
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
