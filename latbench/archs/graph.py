"""``Architecture``: a discrete network of a search space as a DAG of OpSpecs.

Nodes are named tensors; every ``Edge`` applies one OpSpec to the value of its source node(s)
(two for aggregation ops) and adds its output into its destination node, DARTS-style: a node's
value is the sum of its incoming edges. Chains are edges ``n_i -> n_{i+1}``; cells are the
NAS-Bench-201 / RT-DNAS DAGs. The same object is measured as a whole (``build``), predicted
(``ops``, ``longest_path``) and exported to ONNX.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
from torch import nn

from latbench.errors import LatbenchError, TableError
from latbench.jsonio import loads, read_text
from latbench.tables.checks import register_row_check
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
        if "model" in self.meta:  # a traced model (latbench.models): its own input
            return tuple(self.meta["input_shape"])
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
        """The whole network as one ``nn.Module`` (inference mode unless ops say train); a
        traced model (``meta["model"]``, ``latbench.models``) is the model itself."""
        if "model" in self.meta:
            from latbench.models.arch import build_model

            return build_model(self, device)
        module = ArchitectureModule(self)
        return module.to(device=device)

    def example_inputs(self, device: str | torch.device = "cpu", *, seed: int = 0
                       ) -> tuple[torch.Tensor, ...]:
        if "model" in self.meta:
            gen = torch.Generator(device="cpu").manual_seed(seed)
            return (torch.randn(self.input_shape, generator=gen).to(device),)
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
    def from_dict(cls, data: Any, source: str = "architecture") -> "Architecture":
        """Rebuild from ``to_dict``'s form; every field is type-checked and every op key
        parsed, and a bad one is one ``LatbenchError`` naming ``source`` and the field."""
        _expect(source, "(top level)", data, dict, "an object")
        if "edges" not in data and "genotype" in data:  # compact form: rebuilt from genotype
            return _from_compact(data, source)
        for name in ("space", "output", "name", "genotype"):
            if name in data or name in ("space", "output"):
                _expect(source, name, data.get(name), str, "a string")
        _expect(source, "meta", data.get("meta", {}), dict, "an object")
        _expect(source, "edges", data.get("edges"), list, "a list of {src, dst, op}")
        if not data["edges"]:
            raise LatbenchError(f"{source}: field 'edges' is empty; expected at least one edge")
        edges = []
        for i, e in enumerate(data["edges"]):
            where = f"edges[{i}]"
            _expect(source, where, e, dict, "an object {src, dst, op}")
            _expect(source, f"{where}.src", e.get("src"), list, "a list of node names")
            for s in e["src"]:
                _expect(source, f"{where}.src", s, str, "a list of node names")
            _expect(source, f"{where}.dst", e.get("dst"), str, "a node name")
            _expect(source, f"{where}.op", e.get("op"), str, "an OpSpec key")
            try:
                op = OpSpec.from_key(e["op"])
            except LatbenchError as exc:
                raise LatbenchError(f"{source}: field '{where}.op': {exc}") from None
            if len(e["src"]) != op.n_inputs:
                raise LatbenchError(f"{source}: field '{where}.src' has {len(e['src'])} "
                                    f"node(s); op {op.kind} takes {op.n_inputs}")
            edges.append(Edge(tuple(e["src"]), e["dst"], op))
        try:
            return cls(data["space"], tuple(edges), data["output"], data.get("name", ""),
                       data.get("genotype", ""), data.get("meta", {}))
        except LatbenchError as exc:
            raise LatbenchError(f"{source}: {exc}") from None

    @classmethod
    def from_json(cls, text: str, source: str = "architecture") -> "Architecture":
        """Parse ``to_json``'s text strictly (``latbench.jsonio.loads``), then ``from_dict``."""
        return cls.from_dict(loads(text, source), source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> "Architecture":
        """An architecture JSON file (UTF-8, strict JSON); errors name the file and field."""
        return cls.from_json(read_text(path, "architecture"), str(path))


def _from_compact(data: Mapping[str, Any], source: str) -> "Architecture":
    """``latbench.archs.registry.from_compact`` with every failure one line naming ``source``."""
    from latbench.archs.registry import from_compact

    try:
        return from_compact(data)
    except LatbenchError as exc:
        raise LatbenchError(f"{source}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise LatbenchError(f"{source}: compact architecture (space, size, genotype) has a "
                            f"missing or bad field ({type(exc).__name__}: {str(exc)[:80]})"
                            ) from None


def _expect(source: str, field: str, value: Any, kind: type, what: str) -> None:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise LatbenchError(f"{source}: field {field!r} is {type(value).__name__} "
                            f"{str(value)[:40]!r}; expected {what}")


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


@register_row_check
def check_table_architectures(path: Path, df: pd.DataFrame) -> None:
    """Tables' ``arch_json`` column (every networks row, memory rows of subject arch) must
    rebuild an Architecture."""
    if "arch_json" not in df.columns:
        return
    subjects = df["subject"].tolist() if "subject" in df.columns else ["arch"] * len(df)
    for i, (text, subject) in enumerate(zip(df["arch_json"].tolist(), subjects)):
        if subject != "arch":
            continue
        try:
            Architecture.from_json(text, f"{path}: line {i + 2}, field 'arch_json'")
        except LatbenchError as exc:
            raise TableError(str(exc)) from None
