"""``Architecture``: a discrete network of a search space as a DAG of OpSpecs.

Nodes are named tensors; every ``Edge`` applies one OpSpec to the value of its source node(s)
(two for aggregation ops) and adds its output into its destination node, DARTS-style: a node's
value is the sum of its incoming edges. Chains are edges ``n_i -> n_{i+1}``; cells are the
NAS-Bench-201 / RT-DNAS DAGs. The same object is measured as a whole (``build``), predicted
(``ops``, ``longest_path``) and exported to ONNX.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from latbench.errors import LatbenchError
from latbench.opspec import OpSpec

INPUT = "in"


@dataclass(frozen=True)
class Edge:
    """One op from ``src`` node(s) into ``dst``."""

    src: tuple[str, ...]
    dst: str
    op: OpSpec

    def to_dict(self) -> dict[str, Any]:
        return {"src": list(self.src), "dst": self.dst, "op": self.op.key}


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
                raise LatbenchError(f"architecture {self.name or self.space!r}: edge {i} "
                                    f"({e.op.kind}) reads node(s) {missing} before they are "
                                    "written; edges must be in topological order")
            known.add(e.dst)
        if self.output not in known:
            raise LatbenchError(f"architecture {self.name or self.space!r}: output node "
                                f"{self.output!r} is never written")

    # -- views used by predictors ---------------------------------------------------------------
    def ops(self) -> list[OpSpec]:
        """Every edge's OpSpec, in order (repeats kept: each one runs)."""
        return [e.op for e in self.edges]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return next(e.op.input_shape for e in self.edges if INPUT in e.src)

    @property
    def dtype(self) -> str:
        return self.edges[0].op.dtype

    def longest_path(self, edge_cost: Callable[[Edge], float]) -> float:
        """Cost of the most expensive input-to-output path (RT-DNAS Eq. 4 for a cell)."""
        best: dict[str, float] = {INPUT: 0.0}
        for e in self.edges:
            start = max(best[s] for s in e.src)
            best[e.dst] = max(best.get(e.dst, 0.0), start + edge_cost(e))
        return best[self.output]

    # -- building ------------------------------------------------------------------------------
    def build(self, device: str | torch.device = "cpu") -> "ArchitectureModule":
        """The whole network as one ``nn.Module`` (inference mode unless ops say train)."""
        module = ArchitectureModule(self)
        return module.to(device=device)

    def example_inputs(self, device: str | torch.device = "cpu", *, seed: int = 0
                       ) -> tuple[torch.Tensor, ...]:
        first = next(e.op for e in self.edges if INPUT in e.src)
        return first.example_inputs(device, seed=seed)[:1]

    # -- plain-format persistence --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"space": self.space, "name": self.name, "genotype": self.genotype,
                "output": self.output, "edges": [e.to_dict() for e in self.edges],
                "meta": dict(self.meta)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Architecture":
        """The architecture of ``to_dict``'s output, or of a compact one without edges
        (``latbench.archs.registry.compact_dict``), rebuilt from its genotype."""
        if isinstance(data, Mapping) and "edges" not in data and "genotype" in data:
            from latbench.archs.registry import from_compact

            return from_compact(data)
        try:
            edges = tuple(Edge(tuple(e["src"]), e["dst"], OpSpec.from_key(e["op"]))
                          for e in data["edges"])
            return cls(data["space"], edges, data["output"], data.get("name", ""),
                       data.get("genotype", ""), data.get("meta", {}))
        except (KeyError, TypeError) as exc:
            raise LatbenchError(f"malformed architecture: missing or bad field {exc}; expected "
                                "space, output, edges[{src, dst, op}]") from None

    @classmethod
    def from_json(cls, text: str) -> "Architecture":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise LatbenchError(f"architecture is not valid JSON: {exc}") from None


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
