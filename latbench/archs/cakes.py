"""CAKES networks: a 3D encoder-decoder whose searchable 3×3×3 convs each run one of the
seven sub-kernels (layer-wise shrinking), ops from ``latbench.spaces.cakes``.

Structure (C2FNAS' exact topology is not in the paper; the space's assumptions, plus these):
stem (kept by CAKES) to scale 0; per scale ``CONVS[size]`` searchable convs, then the space's
stride-2 down conv to the next scale; the decoder goes back up from the deepest scale: a scale's
node sums the ×2 up-sampling + 1×1×1 conv of the scale below and a searchable lateral conv of
the encoder's output at that scale (FPN-style: the space lists no identity, so the skip carries
a conv), followed by ``CONVS[size] - 1`` more searchable convs; then the kept head.

Left out: CAKES' channel-wise split (several sub-kernels sharing one layer's output channels):
it needs a channel concatenation, which no op kind provides, and the split convs
(``subkernel_ops(..., out=c)``) are not in the space's op list, so a table of the space could
not cover them. Sub-kernel convs are bare (no norm/activation), as the space lists them.

Genotype: the sub-kernel (e.g. ``1x3x3``) of every searchable conv, comma-separated, encoder
convs first (scale 0 up), then decoder convs (deepest scale first).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latbench.archs.graph import INPUT, Architecture, Edge
from latbench.archs.registry import register_sampler
from latbench.errors import LatbenchError
from latbench.spaces.cakes import (
    SPACE,
    SUBKERNELS,
    down_op,
    head_ops,
    scales,
    stem_ops,
    subkernel_name,
    subkernel_ops,
    up_ops,
)

CONVS = {"small": 1, "paper": 2}  # searchable convs per scale and direction
NAMES = tuple(subkernel_name(k) for k in SUBKERNELS)


def n_layers(size: str) -> int:
    """Searchable convs of a network: every scale in the encoder, all but the deepest after."""
    n = len(scales(size))
    return CONVS[size] * (2 * n - 1)


class _Chain:
    def __init__(self) -> None:
        self.edges: list[Edge] = []

    def add(self, src: str, ops: Sequence, dst: str | None = None) -> str:
        """Apply ``ops`` in a chain from ``src``; the last one writes ``dst`` (or a new node)."""
        for i, op in enumerate(ops):
            out = dst if dst is not None and i == len(ops) - 1 else f"n{len(self.edges)}"
            self.edges.append(Edge((src,), out, op))
            src = out
        return src


def build_network(choice: Sequence[str], size: str = "small") -> Architecture:
    """The network whose ``i``-th searchable conv runs sub-kernel ``choice[i]``."""
    if len(choice) != n_layers(size) or any(c not in NAMES for c in choice):
        raise LatbenchError(
            f"cakes ({size}): choice must name {n_layers(size)} sub-kernels "
            f"among {', '.join(NAMES)}; got {list(choice)!r}"
        )
    picks, k, n = iter(choice), CONVS[size], len(scales(size))

    def convs(s, m):
        return [subkernel_ops(s, size)[next(picks)] for _ in range(m)]

    g = _Chain()
    node, enc = g.add(INPUT, stem_ops(size)), []
    for s in range(n):
        enc.append(g.add(node, convs(s, k)))
        if s < n - 1:
            node = g.add(enc[s], [down_op(s, size)])
    node = enc[-1]
    for s in range(n - 2, -1, -1):
        fused = f"d{s}"
        g.add(node, up_ops(s + 1, size), fused)
        g.add(enc[s], convs(s, 1), fused)
        node = g.add(fused, convs(s, k - 1)) if k > 1 else fused
    out = g.add(node, head_ops(size))
    return Architecture(SPACE, tuple(g.edges), out, genotype=",".join(choice), meta={"size": size})


@register_sampler(SPACE)
def sample(size: str, rng: np.random.Generator) -> Architecture:
    """Every searchable conv's sub-kernel uniformly among the seven."""
    idx = rng.integers(0, len(NAMES), size=n_layers(size))
    return build_network([NAMES[int(i)] for i in idx], size)
