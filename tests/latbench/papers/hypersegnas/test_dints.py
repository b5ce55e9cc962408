"""DiNTS networks: 12 layers each with an active edge, no dead ends, codes checked."""

from __future__ import annotations

import numpy as np
import pytest

from latbench.archs import INPUT, sample_architectures
from latbench.errors import LatbenchError
from latbench.papers.hypersegnas.space import (
    HYPERSEG_OP_NAMES,
    N_LAYERS,
    build_network,
    edges,
    sample_codes,
)


@pytest.mark.parametrize("size", ["small", "paper"])
def test_every_layer_keeps_an_edge_and_every_node_reaches_the_output(size):
    for arch in sample_architectures("dints", 20, size, seed=5):
        layers = arch.genotype.split("|")
        assert len(layers) == N_LAYERS and all(len(g) == len(edges(size)) for g in layers)
        assert all(set(g) != {"-"} for g in layers)
        read = {s for e in arch.edges for s in e.src}
        written = [e.dst for e in arch.edges]
        assert set(written) - read == {arch.output}  # nothing computed is left unused
        assert INPUT in read


def test_an_empty_layer_or_a_dead_source_is_refused():
    codes = sample_codes("small", np.random.default_rng(0))
    codes[4] = [None] * len(codes[4])
    with pytest.raises(LatbenchError, match="layer 5 has no active edge"):
        build_network(codes, "small")
    pairs = edges("small")
    one = [[None] * len(pairs) for _ in range(N_LAYERS)]
    for layer in one:
        layer[pairs.index((0, 0))] = 0
    one[1] = [None] * len(pairs)
    one[1][pairs.index((1, 1))] = 1  # scale 1 was not reached by layer 1
    with pytest.raises(LatbenchError, match="read scales with no input"):
        build_network(one, "small")


def test_hypersegnas_two_op_variant_uses_only_skip_and_3x3x3():
    codes = sample_codes("small", np.random.default_rng(1), n_ops=len(HYPERSEG_OP_NAMES))
    arch = build_network(codes, "small", HYPERSEG_OP_NAMES)
    assert not any(op.kind == "p3d" for op in arch.ops())
    assert set(arch.genotype) <= {"-", "0", "1", "|"}
