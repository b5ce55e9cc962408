"""ST-NAS temporal decoder networks: the initial 3×3×3 conv, a chain of searched layers each
holding one of the 7 candidates, and the 1×1×1 classifier (ST-NAS Sect. 3.3, Fig. 2b).

The decoder is the full-channel (FC) one ST-NAS searched (no channel-reducing conv). The
classifier's ×32 up-sampling of one frame's scores is left out: it runs on a single 2D frame
picked from the window, and no op kind selects a frame; its cost is a constant to add.
Genotype: the chosen op names of the layers, comma-separated.
"""

from __future__ import annotations

import numpy as np

from latbench.archs.graph import INPUT, Architecture, Edge
from latbench.archs.registry import register_sampler
from latbench.errors import LatbenchError
from latbench.spaces.stnas_decoder import OP_NAMES, SPACE, fixed_ops, layer_dilations, layer_ops


def build_network(choice: tuple[str, ...], size: str = "small") -> Architecture:
    """The decoder whose layer ``i`` runs candidate ``choice[i]`` (one name per layer)."""
    dilations = layer_dilations(size)
    if len(choice) != len(dilations) or any(c not in OP_NAMES for c in choice):
        raise LatbenchError(
            f"stnas-decoder ({size}): choice {choice!r} must name one of "
            f"{', '.join(OP_NAMES)} for each of its {len(dilations)} layers"
        )
    fixed = fixed_ops(size)
    ops = [fixed["initial"]]
    ops += [layer_ops(d, size)[name] for d, name in zip(dilations, choice)]
    ops.append(fixed["classifier"])
    edges, node = [], INPUT
    for i, op in enumerate(ops):
        edges.append(Edge((node,), f"n{i}", op))
        node = f"n{i}"
    return Architecture(SPACE, tuple(edges), node, genotype=",".join(choice), meta={"size": size})


@register_sampler(SPACE)
def sample(size: str, rng: np.random.Generator) -> Architecture:
    """Each layer's op uniformly among the 7 candidates."""
    n = len(layer_dilations(size))
    return build_network(tuple(str(OP_NAMES[i]) for i in rng.integers(0, len(OP_NAMES), n)), size)
