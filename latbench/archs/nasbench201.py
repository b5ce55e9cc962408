"""NAS-Bench-201: the field's standard cell benchmark (Dong & Yang, ICLR 2020;
github.com/D-X-Y/NAS-Bench-201).

A network is a stem 3×3 conv-BN, three stages (C=16, 32, 64) of N cells joined by two residual
reductions, then BN-ReLU, global pooling and a classifier. A cell is the benchmark's 4-node DAG
(6 edges, each one of ``OP_NAMES``; convs are ReLU-Conv-BN); its genotype string is the
benchmark's ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (node ``i`` lists its inputs ``op~j``).
``size="paper"`` has N=5 cells per stage, ``size="small"`` N=1. ``n_classes`` picks the dataset:
CIFAR-10 (10), CIFAR-100 (100) at 32×32 input, ImageNet16-120 (120) at 16×16.

``none`` edges run the benchmark's Zero op (``x.mul(0.)``); ``prune=True`` builds what a
runtime that removes dead code runs (no ``none`` edges, no op off every input-output path) and
refuses the ~2 % of cells with no such path (``DisconnectedCellError``), which are built
unpruned with ``meta["connected"] = False`` (docs/public-data.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from latbench.architecture import INPUT, Architecture, Edge, register_genotype
from latbench.errors import (
    DisconnectedCellError,
    GenotypeError,
    LatbenchError,
    UnknownGenotypeOpError,
)
from latbench.opspec import OpSpec
from latbench.spaces.registry import register_sampler, register_space

CHANNELS = (16, 32, 64)
OP_NAMES = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
N_CLASSES = 10
DATASETS = {10: ("cifar10", 32), 100: ("cifar100", 32), 120: ("ImageNet16-120", 16)}
"""Number of classes -> (NAS-Bench-201 dataset name, input resolution)."""


def space_ops(batches: tuple[int, ...] = (1,), n_classes: int = N_CLASSES) -> list[OpSpec]:
    """Every op of NAS-Bench-201 networks at these batch sizes, for one dataset: the cell
    ops stage by stage, then the fixed skeleton."""
    ops: list[OpSpec] = []
    for batch in batches:
        segments = _layout("small", n_classes, batch)[0]
        ops += [
            e.op for seg in segments if isinstance(seg[0], dict) for c in seg for e in c.values()
        ]
        ops += [e.op for seg in segments if isinstance(seg[0], Edge) for e in seg]
    return list(dict.fromkeys(ops))


@register_space("nasbench201", paper="NAS-Bench-201 (Dong & Yang, ICLR 2020)", default_size="paper")
def nasbench201_ops(size: str) -> list[OpSpec]:
    """NAS-Bench-201 cell ops at its three CIFAR-10 stages, plus its fixed skeleton (batch 1;
    ``paper``: batches 1 and 64)."""
    return space_ops((1,) if size == "small" else (1, 64))


SPACE = "nasbench201"
CELL_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))  # (from, to) in genotype order
CELLS_PER_STAGE = {"small": 1, "paper": 5}
FORMAT = "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"


class FrozenMeta(dict):
    """A read-only dict for the ``meta`` of cached, shared networks (``copy`` is itself)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "the meta of a NAS-Bench-201 network is read-only (networks are cached "
            "and shared); build a new Architecture with another meta"
        )

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __copy__(self) -> FrozenMeta:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMeta, (dict(self),))


@lru_cache(maxsize=32768)
def genotype_string(cell: tuple[str, ...]) -> str:
    """``cell`` (six op names in CELL_EDGES order) in NAS-Bench-201's string format."""
    first = {1: 0, 2: 1, 3: 3}  # index of node ``to``'s first input edge in ``cell``
    return "+".join(
        "|" + "".join(f"{cell[first[to] + j]}~{j}|" for j in range(to)) for to in (1, 2, 3)
    )


def _malformed(text: str, problem: str) -> GenotypeError:
    return GenotypeError(
        f"genotype {text!r}: {problem}; expected NAS-Bench-201's {FORMAT} "
        f"with ops {', '.join(OP_NAMES)}"
    )


@lru_cache(maxsize=32768)
def parse_genotype(arch_str: str) -> tuple[str, ...]:
    """The six op names (CELL_EDGES order) of a NAS-Bench-201 genotype string.

    Surrounding whitespace is ignored; anything else must be exactly the benchmark's format.
    Raises ``GenotypeError`` (malformed) or ``UnknownGenotypeOpError`` (an op not in
    ``OP_NAMES``), one line naming the string and what was expected.
    """
    if not isinstance(arch_str, str):
        raise _malformed(str(arch_str), f"is a {type(arch_str).__name__}, not a string")
    text = arch_str.strip()
    nodes = text.split("+")
    if len(nodes) != 3:
        raise _malformed(text, f"has {len(nodes)} '+'-separated nodes, not 3")
    cell: list[str] = []
    for to, node in enumerate(nodes, start=1):
        if len(node) < 2 or node[0] != "|" or node[-1] != "|":
            raise _malformed(text, f"node {to} {node!r} is not enclosed in '|'")
        inputs = node[1:-1].split("|")
        if len(inputs) != to:
            raise _malformed(text, f"node {to} has {len(inputs)} inputs, not {to}")
        for j, item in enumerate(inputs):
            op, sep, src = item.rpartition("~")
            if not sep or src != str(j):
                raise _malformed(text, f"node {to} input {item!r} is not 'op~{j}'")
            if op not in OP_NAMES:
                raise UnknownGenotypeOpError(
                    f"genotype {text!r}: unknown op {op!r} on edge {j}->{to}; valid: "
                    f"{', '.join(OP_NAMES)}"
                )
            cell.append(op)
    return tuple(cell)


@lru_cache(maxsize=32768)
def live_edges(cell: tuple[str, ...]) -> tuple[int, ...]:
    """Indices (CELL_EDGES order) of the edges that are not ``none`` and lie on a path from
    the cell's input (node 0) to its output (node 3)."""
    real = [i for i, op in enumerate(cell) if op != "none"]
    reach, back = {0}, {3}
    for i in real:  # CELL_EDGES is in topological order of the source node
        if CELL_EDGES[i][0] in reach:
            reach.add(CELL_EDGES[i][1])
    for i in reversed(real):
        if CELL_EDGES[i][1] in back:
            back.add(CELL_EDGES[i][0])
    return tuple(i for i in real if CELL_EDGES[i][0] in reach and CELL_EDGES[i][1] in back)


def is_connected(cell: tuple[str, ...] | str) -> bool:
    """Whether the cell (op tuple or genotype string) has a path from input to output that
    does not go through a ``none`` edge."""
    ops = parse_genotype(cell) if isinstance(cell, str) else cell
    return bool(live_edges(ops))


@lru_cache(maxsize=64)
def _layout(size: str, n_classes: int, batch: int) -> tuple[tuple[Any, ...], str]:
    """The network as segments, and its output node. A fixed segment is a tuple of Edges; a
    cell segment has, per CELL_EDGES position, the Edge of each op name. Node names depend
    only on the position, so the Edges are made once and shared by every network."""
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise LatbenchError(f"batch={batch!r} must be a positive integer")
    if n_classes not in DATASETS:
        raise LatbenchError(
            f"n_classes={n_classes!r} is not one of NAS-Bench-201's datasets; "
            "expected 10 (cifar10), 100 (cifar100) or 120 (ImageNet16-120)"
        )
    res = DATASETS[n_classes][1]
    nor: dict[str, Any] = dict(norm="bn", act="relu", act_first=True)
    stem = OpSpec.make("conv", (batch, 3, res, res), out=CHANNELS[0], kernel=3, norm="bn")
    segments: list[Any] = [(Edge((INPUT,), "s0", stem),)]
    node, names = "s0", (f"n{i}" for i in itertools.count(1))
    for s, channels in enumerate(CHANNELS):
        side, half = res >> s, channels // 2
        shape = (batch, channels, side, side)
        if s:  # residual reduction: ReLU-Conv3×3/2-BN, ReLU-Conv3×3-BN; AvgPool2 + Conv1×1
            wide, pooled_shape = (batch, half, 2 * side, 2 * side), (batch, half, side, side)
            mid, pooled, out = next(names), next(names), next(names)
            segments.append(
                (
                    Edge((node,), mid, OpSpec.make("conv", wide, out=channels, stride=2, **nor)),
                    Edge((mid,), out, OpSpec.make("conv", shape, **nor)),
                    Edge((node,), pooled, OpSpec.make("pool", wide, reduce="avg", kernel=2)),
                    Edge((pooled,), out, OpSpec.make("conv", pooled_shape, out=channels, kernel=1)),
                )
            )
            node = out
        ops = {
            "none": OpSpec.make("zero", shape),
            "skip_connect": OpSpec.make("identity", shape),
            "nor_conv_1x1": OpSpec.make("conv", shape, kernel=1, **nor),
            "nor_conv_3x3": OpSpec.make("conv", shape, kernel=3, **nor),
            "avg_pool_3x3": OpSpec.make("pool", shape, reduce="avg", kernel=3, stride=1),
        }
        for _ in range(CELLS_PER_STAGE[size]):
            cell = [node, next(names), next(names), next(names)]
            segments.append(
                tuple(
                    {name: Edge((cell[a],), cell[b], op) for name, op in ops.items()}
                    for a, b in CELL_EDGES
                )
            )
            node = cell[3]
    head = [OpSpec.make(kind, shape) for kind in ("norm_act", "global_pool")]
    head.append(OpSpec.make("linear", shape[:2], out=n_classes))
    nodes = [node] + [next(names) for _ in head]
    segments.append(tuple(Edge((a,), b, op) for a, b, op in zip(nodes, nodes[1:], head)))
    return tuple(segments), nodes[-1]


@lru_cache(maxsize=32768)
def build_network(
    cell: tuple[str, ...],
    size: str = "small",
    batch: int = 1,
    *,
    n_classes: int = N_CLASSES,
    prune: bool = False,
) -> Architecture:
    """The whole NAS-Bench-201 network whose every cell is ``cell``.

    ``batch`` and ``n_classes`` (10, 100 or 120; 120 means ImageNet16-120's 16×16 input) set
    the shapes; ``prune`` drops ``none`` edges and dead ops (see the module docstring).
    Networks are immutable (``meta`` is read-only), so the last 32,768 built are cached:
    re-reading a 15,625-network table costs lookups, not rebuilds.
    """
    if size not in CELLS_PER_STAGE:
        raise GenotypeError(
            f"unknown size {size!r} for space {SPACE!r}; valid: {', '.join(CELLS_PER_STAGE)}"
        )
    connected = is_connected(cell)
    if prune and not connected:
        raise DisconnectedCellError(
            f"genotype {genotype_string(cell)!r} has no path from cell input to output "
            "without a 'none' edge: pruned, its network's output would not depend on its "
            "input; build it with prune=False (the benchmark's Zero ops) or leave it out"
        )
    keep = live_edges(cell) if prune else range(len(CELL_EDGES))
    segments, output = _layout(size, n_classes, batch)
    edges: list[Edge] = []
    for segment in segments:
        if isinstance(segment[0], Edge):
            edges.extend(segment)
        else:
            edges.extend(segment[i][cell[i]] for i in keep)
    meta = FrozenMeta(size=size, batch=batch, n_classes=n_classes, prune=prune, connected=connected)
    return Architecture(SPACE, tuple(edges), output, genotype=genotype_string(cell), meta=meta)


def from_genotype(
    arch_str: str,
    *,
    size: str = "paper",
    batch: int = 1,
    n_classes: int = N_CLASSES,
    prune: bool = False,
) -> Architecture:
    """The NAS-Bench-201 network of genotype string ``arch_str`` (the benchmark's network,
    C=16 and N=5, by default). ``from_genotype(s).genotype == s`` for every valid ``s``.

    Raises ``GenotypeError`` for a malformed string or unknown op and
    ``DisconnectedCellError`` for a disconnected cell with ``prune=True``.
    """
    return build_network(parse_genotype(arch_str), size, batch, n_classes=n_classes, prune=prune)


@register_genotype(SPACE)
def rebuild(genotype: str, meta: Mapping[str, Any]) -> Architecture:
    """The network a compact architecture JSON (genotype + build meta) stands for."""
    return from_genotype(
        genotype,
        size=str(meta.get("size", "paper")),
        batch=int(meta.get("batch", 1)),
        n_classes=int(meta.get("n_classes", N_CLASSES)),
        prune=bool(meta.get("prune", False)),
    )


@register_sampler(SPACE)
def sample(size: str, rng: np.random.Generator) -> Architecture:
    cell = tuple(str(OP_NAMES[i]) for i in rng.integers(0, len(OP_NAMES), size=6))
    return build_network(cell, size)


def all_genotypes() -> list[str]:
    """Every one of the 5**6 = 15,625 NAS-Bench-201 cells, as genotype strings."""
    return [genotype_string(c) for c in itertools.product(OP_NAMES, repeat=len(CELL_EDGES))]
