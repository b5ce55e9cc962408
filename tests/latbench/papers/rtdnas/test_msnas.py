"""MS-NAS networks: shared cells counted once, legal paths back to scale 0, checks."""

from __future__ import annotations

import pytest

from latbench.archs import sample_architectures
from latbench.errors import LatbenchError
from latbench.papers.rtdnas.space import N_LAYERS, build_network, live_edges

CELL = (
    ((0, "sep_conv_3x3"), (0, "skip_connect")),
    ((0, "max_pool_3x3"), (1, "dil_conv_3x3")),
    ((1, "avg_pool_3x3"), (2, "sep_conv_5x5")),
)
UP_DOWN = ("contracting", "expanding") + ("non_scaling",) * (N_LAYERS - 2)
FLAT = ("non_scaling",) * N_LAYERS


def test_overlapping_paths_run_their_shared_cells_once():
    one = build_network(CELL, [UP_DOWN], "small")
    both = build_network(CELL, [UP_DOWN, FLAT], "small")
    again = build_network(CELL, [UP_DOWN, UP_DOWN], "small")
    per_cell = len(live_edges(CELL))
    assert len(again.edges) == len(one.edges)
    # FLAT shares layers 3..10 (non-scaling at scale 0) with UP_DOWN: 2 new cells only
    assert len(both.edges) - len(one.edges) == 2 * (per_cell + 1)


def test_blocks_off_the_output_path_are_dropped():
    cell = (
        ((0, "sep_conv_3x3"), (0, "skip_connect")),  # X_1, read by no one
        ((0, "max_pool_3x3"), (0, "dil_conv_3x3")),
        ((0, "avg_pool_3x3"), (2, "sep_conv_5x5")),
    )
    assert {i for _, i, _ in live_edges(cell)} == {2, 3}


def test_illegal_paths_and_blocks_are_refused():
    with pytest.raises(LatbenchError, match="cannot start at scale 0"):
        build_network(CELL, [("expanding",) + FLAT[1:]], "small")
    with pytest.raises(LatbenchError, match="end at scale 0"):
        build_network(CELL, [("contracting",) + FLAT[1:]], "small")
    with pytest.raises(LatbenchError, match="block X_2"):
        build_network((CELL[0], ((2, "sep_conv_3x3"),), CELL[2]), [FLAT], "small")


def test_sampled_paths_return_to_scale_0():
    for arch in sample_architectures("msnas", 20, "paper", seed=2):
        paths = arch.genotype.split(";")[1].split(",")
        assert 1 <= len(paths) <= 8
        for path in paths:
            assert len(path) == N_LAYERS and path.count("c") == path.count("e")
