"""Architectures encoded once as numpy index arrays, for fast batched prediction.

``encode(archs)`` lists the distinct OpSpecs and, per distinct wiring (edge sources and
destinations), a matrix of op indices with one row per architecture (a search can build it
directly: ``ArchBatch.from_indices``); composition features are then numpy operations per edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from latbench.architecture import longest_path
from latbench.archs import INPUT, Architecture
from latbench.opspec import OpSpec

KIND_PREFIX = "op_sum:"  # op_sum:<kind>: one op kind's costs, summed per architecture


@dataclass(frozen=True)
class Wiring:
    """One DAG shape: per edge its source node indices and destination node index."""

    src: tuple[tuple[int, ...], ...]
    dst: tuple[int, ...]
    output: int
    n_nodes: int

    @classmethod
    def of(cls, arch: Architecture) -> Wiring:
        names = {INPUT: 0}
        for e in arch.edges:
            names.setdefault(e.dst, len(names))
        src = tuple(tuple(names[s] for s in e.src) for e in arch.edges)
        return cls(src, tuple(names[e.dst] for e in arch.edges), names[arch.output], len(names))

    @property
    def n_merges(self) -> int:
        """Edges adding into a node that already has a value (one tensor addition each)."""
        return len(self.dst) - len(set(self.dst))

    def longest_path(self, edge_cost_t: np.ndarray) -> np.ndarray:
        """RT-DNAS Eq. 4 for every column of ``edge_cost_t`` (n_edges × n_archs) at once."""
        return longest_path(list(zip(self.src, self.dst)), self.output, edge_cost_t, source=0)


@dataclass
class WiringGroup:
    """The architectures of a batch sharing one wiring."""

    wiring: Wiring
    rows: np.ndarray  # positions in the batch, int64
    op_index: np.ndarray  # (len(rows), n_edges) indices into ArchBatch.ops, int32


@dataclass
class ArchBatch:
    """Architectures as index arrays over their distinct ops."""

    ops: list[OpSpec]
    groups: list[WiringGroup]
    n: int
    _counts: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_indices(cls, ops: Sequence[OpSpec], wiring: Wiring, op_index: np.ndarray) -> ArchBatch:
        """A batch of one wiring from an (n_archs × n_edges) op-index matrix."""
        idx = np.ascontiguousarray(op_index, dtype=np.int32)
        return cls(list(ops), [WiringGroup(wiring, np.arange(len(idx)), idx)], len(idx))

    def features(self, op_cost: np.ndarray, by_kind: bool = False) -> dict[str, np.ndarray]:
        """Per architecture: op_sum, longest_path (in the op costs' unit), n_edges, n_merges,
        and with ``by_kind`` ``op_sum:<kind>``, the op sum of each op kind of the batch (they
        add up to op_sum)."""
        kinds = sorted({op.kind for op in self.ops}) if by_kind else []
        kind_of = np.array(
            [kinds.index(op.kind) if by_kind else 0 for op in self.ops], dtype=np.int64
        )
        out = {k: np.zeros(self.n) for k in ("op_sum", "longest_path", "n_edges", "n_merges")}
        out |= {f"{KIND_PREFIX}{k}": np.zeros(self.n) for k in kinds}
        for g in self.groups:
            edge_cost_t = op_cost[g.op_index.T]
            out["op_sum"][g.rows] = edge_cost_t.sum(axis=0)
            out["longest_path"][g.rows] = g.wiring.longest_path(edge_cost_t)
            out["n_edges"][g.rows] = len(g.wiring.dst)
            out["n_merges"][g.rows] = g.wiring.n_merges
            edge_kind_t = kind_of[g.op_index.T] if kinds else None
            for ki, k in enumerate(kinds):
                out[f"{KIND_PREFIX}{k}"][g.rows] = np.where(
                    edge_kind_t == ki, edge_cost_t, 0.0
                ).sum(axis=0)
        return out

    def counts(self) -> np.ndarray:
        """How often each op of ``ops`` runs in each architecture: (n, len(ops)) float64,
        computed once per batch (treat it as read-only)."""
        if self._counts is not None:
            return self._counts
        p = len(self.ops)
        flat = np.zeros(self.n * p)
        for g in self.groups:
            cells = (g.rows[:, None] * p + g.op_index).ravel()
            flat += np.bincount(cells, minlength=self.n * p)
        self._counts = flat.reshape(self.n, p)
        return self._counts

    def take(self, rows: np.ndarray) -> ArchBatch:
        """The sub-batch (or resampled batch) of the given positions, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        groups = []
        group_of = np.empty(self.n, dtype=np.int64)
        local = np.empty(self.n, dtype=np.int64)
        for gi, g in enumerate(self.groups):
            group_of[g.rows], local[g.rows] = gi, np.arange(len(g.rows))
        for gi, g in enumerate(self.groups):
            mine = np.flatnonzero(group_of[rows] == gi)
            if len(mine):
                groups.append(WiringGroup(g.wiring, mine, g.op_index[local[rows[mine]]]))
        return ArchBatch(self.ops, groups, len(rows))


def encode(archs: Sequence[Architecture]) -> ArchBatch:
    """Index arrays of ``archs`` (ops deduplicated by spec, architectures by wiring)."""
    op_ids: dict[str, int] = {}
    ops: list[OpSpec] = []
    wirings: dict[tuple, tuple[Wiring, list[int], list[list[int]]]] = {}
    for pos, arch in enumerate(archs):
        sig = (tuple((e.src, e.dst) for e in arch.edges), arch.output)
        entry = wirings.get(sig)
        if entry is None:
            entry = wirings[sig] = (Wiring.of(arch), [], [])
        entry[1].append(pos)
        row = []
        for e in arch.edges:
            i = op_ids.get(e.op.key)
            if i is None:
                i = op_ids[e.op.key] = len(ops)
                ops.append(e.op)
            row.append(i)
        entry[2].append(row)
    groups = [
        WiringGroup(w, np.array(rows, dtype=np.int64), np.array(idx, dtype=np.int32))
        for w, rows, idx in wirings.values()
    ]
    return ArchBatch(ops, groups, len(archs))
