"""``Architecture``: a discrete network of a search space as a DAG of OpSpecs.

Nodes are named tensors; every ``Edge`` applies one OpSpec to its source node(s) (two for
aggregation ops) and adds its output into its destination node (DARTS-style sums). The same
object is measured as a whole (``build``), predicted (``ops``, ``longest_path``) and exported.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from latbench.errors import LatbenchError
from latbench.jsonio import loads, read_text, validated
from latbench.model_loader import load_model
from latbench.ops.registry import Registry
from latbench.opspec import OpSpec

INPUT = "in"

Costs = TypeVar("Costs", np.ndarray, torch.Tensor)


def longest_path(
    wiring: Sequence[tuple[Sequence[Hashable], Hashable]],
    output: Hashable,
    edge_cost: Costs,
    source: Hashable = INPUT,
) -> Costs:
    """Cost of the most expensive ``source``-to-``output`` path of a DAG (RT-DNAS Eq. 4):
    D_source = 0, D_v = max over edges (u..) -> v of max_u D_u + cost; returns D_output.

    ``wiring``: per edge (source nodes, destination node), in topological order.
    ``edge_cost``: (n_edges, *batch) numpy array or torch tensor (differentiable: the gradient
    goes to the edges of the longest path); the result has shape ``batch``.
    """
    if isinstance(edge_cost, torch.Tensor):
        maximum, zero = torch.maximum, edge_cost.new_zeros(edge_cost.shape[1:])
    else:
        maximum, zero = np.maximum, np.zeros(np.shape(edge_cost)[1:])
    best = {source: zero}
    for j, (src, dst) in enumerate(wiring):
        start = best[src[0]]
        for s in src[1:]:
            start = maximum(start, best[s])
        cand = start + edge_cost[j]
        best[dst] = maximum(best[dst], cand) if dst in best else cand
    return best[output]


@dataclass(frozen=True)
class Edge:
    """One op from ``src`` node(s) into ``dst``."""

    src: tuple[str, ...]
    dst: str
    op: OpSpec


@dataclass(frozen=True)
class Architecture:
    """A discrete architecture: edges in topological order, one input node, one output node."""

    space: str
    edges: tuple[Edge, ...]
    output: str
    name: str = ""
    genotype: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        known = {INPUT}
        for i, e in enumerate(self.edges):
            missing = [s for s in e.src if s not in known]
            if missing:
                raise LatbenchError(
                    f"architecture {self.name or self.space!r}: edge {i} ({e.op.kind}) reads "
                    f"node(s) {missing} before they are written; edges must be in topological order"
                )
            known.add(e.dst)
        if self.output not in known:
            raise LatbenchError(
                f"architecture {self.name or self.space!r}: output node {self.output!r} is never "
                "written"
            )

    def ops(self) -> list[OpSpec]:
        """Every edge's OpSpec, in order (repeats kept: each one runs)."""
        return [e.op for e in self.edges]

    @property
    def input_shape(self) -> tuple[int, ...]:
        if "model" in self.meta:  # a traced model (latbench.models): its own input
            return tuple(self.meta["input_shape"])
        return next(e.op.input_shape for e in self.edges if INPUT in e.src)

    @property
    def dtype(self) -> str:
        return self.edges[0].op.dtype

    def longest_path(self, edge_cost: Callable[[Edge], float]) -> float:
        """Cost of the most expensive input-to-output path (RT-DNAS Eq. 4 for a cell)."""
        return float(
            longest_path(
                [(e.src, e.dst) for e in self.edges],
                self.output,
                np.array([edge_cost(e) for e in self.edges], dtype=float),
            )
        )

    def build(self, device: str | torch.device = "cpu") -> nn.Module:
        """The whole network as one ``nn.Module`` (inference mode unless ops say train); a
        traced model (``meta["model"]``, ``latbench.models``) is the model itself."""
        if "model" in self.meta:
            module, _ = load_model(str(self.meta["model"]), tuple(self.meta["input_shape"]), "cpu")
            return module.to(device)
        return ArchitectureModule(self).to(device=device)

    def example_inputs(
        self, device: str | torch.device = "cpu", *, seed: int = 0
    ) -> tuple[torch.Tensor, ...]:
        if "model" in self.meta:
            gen = torch.Generator(device="cpu").manual_seed(seed)
            return (torch.randn(self.input_shape, generator=gen).to(device),)
        first = next(e.op for e in self.edges if INPUT in e.src)
        return first.example_inputs(device, seed=seed)[:1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "space": self.space,
            "name": self.name,
            "genotype": self.genotype,
            "output": self.output,
            "edges": [{"src": list(e.src), "dst": e.dst, "op": e.op.key} for e in self.edges],
            "meta": dict(self.meta),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def canonical_json(self) -> str:
        """The network alone, independent of node names and of equivalent edge orders: what
        ``latbench.tablerun.ids.arch_id`` hashes. Edges are written with ``_node_labels`` and
        sorted; of ``meta`` only a traced model's ``meta["model"]`` is kept. An architecture that
        reads a node before its last write keeps its edge order (only node names are canonical).
        """
        doc: dict[str, Any] = {"model": self.meta["model"]} if "model" in self.meta else {}
        labels = _node_labels(self)
        if labels is None:  # order matters: names by first write, edges as given
            doc["ordered"] = True
            labels = {INPUT: INPUT}
            for e in self.edges:
                labels.setdefault(e.dst, f"v{len(labels)}")
        edges = [[[labels[x] for x in e.src], labels[e.dst], e.op.key] for e in self.edges]
        doc.update(edges=edges if "ordered" in doc else sorted(edges), output=labels[self.output])
        return json.dumps(doc, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any, source: str = "architecture") -> Architecture:
        """Rebuild from ``to_dict``'s form, checked against ``ArchitectureDoc`` and with every
        op key parsed; a bad field is one ``LatbenchError`` naming ``source`` and the field."""
        if isinstance(data, dict) and "edges" not in data and "genotype" in data:
            return from_compact(data, source)
        doc = validated(ArchitectureDoc, data, source, LatbenchError)
        edges = []
        for i, e in enumerate(doc.edges):
            try:
                op = OpSpec.from_key(e.op)
            except LatbenchError as exc:
                raise LatbenchError(f"{source}: field 'edges[{i}].op': {exc}") from None
            if len(e.src) != op.n_inputs:
                raise LatbenchError(
                    f"{source}: field 'edges[{i}].src' has {len(e.src)} "
                    f"node(s); op {op.kind} takes {op.n_inputs}"
                )
            edges.append(Edge(tuple(e.src), e.dst, op))
        try:
            return cls(doc.space, tuple(edges), doc.output, doc.name, doc.genotype, doc.meta)
        except LatbenchError as exc:
            raise LatbenchError(f"{source}: {exc}") from None

    @classmethod
    def from_json(cls, text: str, source: str = "architecture") -> Architecture:
        """Parse ``to_json``'s text strictly (``latbench.jsonio.loads``), then ``from_dict``;
        cached by text (shared objects: do not change their ``meta``)."""
        try:
            return _parsed(text)
        except LatbenchError:  # parse again to name ``source`` in the error
            return cls.from_dict(loads(text, source), source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Architecture:
        """An architecture JSON file (UTF-8, strict JSON); errors name the file and field."""
        return cls.from_json(read_text(path, "architecture"), str(path))


class EdgeDoc(BaseModel):
    model_config = ConfigDict(strict=True, defer_build=True)
    src: list[str]
    dst: str
    op: str = Field(description="an OpSpec key")


class ArchitectureDoc(BaseModel):
    """The schema of an architecture JSON (``Architecture.to_dict``); other fields are ignored."""

    model_config = ConfigDict(strict=True, defer_build=True)
    space: str
    output: str
    name: str = ""
    genotype: str = ""
    meta: dict[str, Any] = {}
    edges: list[EdgeDoc] = Field(min_length=1)


@functools.lru_cache(maxsize=32768)
def _parsed(text: str) -> Architecture:
    return Architecture.from_dict(loads(text))


def _digest(*parts: Any) -> str:
    """16 hex digits of sha1 over ``repr(parts)``."""
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def _node_labels(arch: Architecture) -> dict[str, str] | None:
    """Name-free label of every node: a digest of what it computes (incoming ops and their
    inputs' labels) and how it is used (ops reading it and their outputs' labels); None when a
    node is read before its last write (the edges' order is part of the network)."""
    read: set[str] = set()
    for e in arch.edges:
        if e.dst in read or e.dst in e.src:
            return None
        read.update(e.src)
    last = {e.dst: i for i, e in enumerate(arch.edges)}
    order = sorted(last, key=last.__getitem__)  # a node after every node it reads
    incoming: dict[str, list[Edge]] = {n: [] for n in order}
    reads: dict[str, list[tuple[int, Edge]]] = {n: [] for n in [INPUT, *order]}
    for e in arch.edges:
        incoming[e.dst].append(e)
        for i, x in enumerate(e.src):
            reads[x].append((i, e))
    down = {INPUT: "input"}
    for n in order:
        down[n] = _digest(sorted([f.op.key, [down[x] for x in f.src]] for f in incoming[n]))
    up: dict[str, str] = {}
    for n in [*reversed(order), INPUT]:
        up[n] = _digest(
            n == arch.output,
            sorted([f.op.key, i, up[f.dst], [down[x] for x in f.src]] for i, f in reads[n]),
        )
    return {n: _digest(down[n], up[n]) for n in down}


class ArchitectureModule(nn.Module):
    """Evaluates an Architecture's edges in order, summing into destination nodes."""

    def __init__(self, arch: Architecture):
        super().__init__()
        self.arch = arch
        self.ops = nn.ModuleList(e.op.build("cpu") for e in arch.edges)
        self._wiring = [(e.src, e.dst) for e in arch.edges]
        self.train(any(e.op.mode == "train" for e in arch.edges))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {INPUT: x}
        for op, (src, dst) in zip(self.ops, self._wiring):
            out = op(*(values[s] for s in src))
            values[dst] = out if dst not in values else values[dst] + out
        return values[self.arch.output]


GenotypeBuilder = Callable[[str, Mapping[str, Any]], Architecture]
_GENOTYPE_BUILDERS: Registry[GenotypeBuilder] = Registry("genotype builder")


def register_genotype(space: str) -> Callable[[GenotypeBuilder], GenotypeBuilder]:
    """Decorator registering ``build(genotype, meta) -> Architecture`` for ``space``."""

    def decorate(fn: GenotypeBuilder) -> GenotypeBuilder:
        _GENOTYPE_BUILDERS.add(space, fn)
        return fn

    return decorate


def spaces_with_genotypes() -> list[str]:
    return _GENOTYPE_BUILDERS.names()


def from_compact(data: Mapping[str, Any], source: str = "architecture") -> Architecture:
    """The architecture of a compact JSON object (``compact_dict``), rebuilt by its space's
    genotype builder; every failure is one ``LatbenchError`` naming ``source``."""
    space = data.get("space")
    if space not in spaces_with_genotypes():
        raise LatbenchError(
            f"{source}: architecture of space {space!r} has no 'edges' and that space "
            "cannot rebuild one from its genotype; expected a full Architecture.to_json()"
        )
    try:
        arch = _GENOTYPE_BUILDERS[space](str(data.get("genotype", "")), data.get("meta") or {})
    except LatbenchError as exc:
        raise LatbenchError(f"{source}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise LatbenchError(
            f"{source}: compact architecture (space, size, genotype) has a "
            f"missing or bad field ({type(exc).__name__}: {str(exc)[:80]})"
        ) from None
    name = str(data.get("name", ""))
    return arch if name == arch.name else dataclasses.replace(arch, name=name)


def compact_dict(arch: Architecture) -> dict[str, Any]:
    """``arch`` without its edges (space, name, genotype, meta): a few hundred bytes instead of
    tens of KB, for spaces that rebuild from a genotype (``Architecture.from_dict`` reads it)."""
    if arch.space not in spaces_with_genotypes():
        raise LatbenchError(
            f"space {arch.space!r} cannot rebuild an architecture from its genotype; store the "
            "full Architecture.to_json()"
        )
    meta = dict(arch.meta)  # not to_dict(): that builds every edge's dict only to drop it
    return {"space": arch.space, "name": arch.name, "genotype": arch.genotype, "meta": meta}
