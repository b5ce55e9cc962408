"""CAKES networks: one sub-kernel per searchable conv, in genotype order; bad choices refused."""

from __future__ import annotations

import pytest

from latbench.errors import LatbenchError
from latbench.ops.basic import per_dim
from latbench.papers.cakes.space import NAMES, build_network, n_layers


@pytest.mark.parametrize("size", ["small", "paper"])
def test_the_chosen_sub_kernels_are_the_networks_searchable_convs(size):
    choice = [NAMES[i % len(NAMES)] for i in range(n_layers(size))]
    arch = build_network(choice, size)
    bare = [
        op
        for op in arch.ops()
        if op.kind == "conv" and op.p["norm"] == "none" and op.p["out"] is None
    ]  # sub-kernel convs are the bare, channel-keeping ones
    # kernels are canonical: (3, 3, 3) is written 3, so read them per dimension
    assert ["x".join(map(str, per_dim(op, "kernel"))) for op in bare] == choice
    assert arch.genotype == ",".join(choice)


def test_wrong_length_or_unknown_sub_kernel_is_refused():
    with pytest.raises(LatbenchError, match="1x3x3"):
        build_network(["3x3x3"], "small")
    with pytest.raises(LatbenchError, match="5x5x5"):
        build_network(["5x5x5"] * n_layers("small"), "small")
