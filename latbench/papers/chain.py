"""``Chain``: the edges of a paper's network, added op chain by op chain."""

from __future__ import annotations

from collections.abc import Sequence

from latbench.architecture import Edge
from latbench.opspec import OpSpec


class Chain:
    """The edges of an ``Architecture`` being built; intermediate nodes are named
    ``<prefix><edge count>``."""

    def __init__(self, prefix: str = "n") -> None:
        self.edges: list[Edge] = []
        self.prefix = prefix

    def add(self, src: str | tuple[str, ...], ops: Sequence[OpSpec], dst: str | None = None) -> str:
        """Run ``ops`` in a chain from ``src`` (a node, or the nodes the first op reads); the
        last op writes ``dst`` (default: a new node). Returns the node written last."""
        reads = (src,) if isinstance(src, str) else tuple(src)
        for i, op in enumerate(ops):
            last = i == len(ops) - 1
            out = dst if last and dst is not None else f"{self.prefix}{len(self.edges)}"
            self.edges.append(Edge(reads, out, op))
            reads = (out,)
        return reads[0]
