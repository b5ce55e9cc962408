"""Dynamic-cell networks: encoder always runs, unread step results become the outputs."""

from __future__ import annotations

import pytest

from latbench.errors import LatbenchError
from latbench.papers.dyncell.space import build_network, encoder_ops, outputs

CHAINED = [
    ("layer2", "sep_conv_3x3", "dec", "skip_connect", "weighted_sum"),
    ("cell0", "deform_conv_3x3", "layer4", "gap_conv_1x1", "attention"),
]
PARALLEL = [
    ("layer3", "sep_conv_3x3", "layer2", "skip_connect", "conv3d"),
    ("prev_layer4", "sep_conv_3x3_d3", "dec", "sep_conv_5x5_d6", "concat_conv"),
]


def test_unread_results_are_the_outputs_and_two_are_fused():
    assert outputs(CHAINED) == ["cell1"] and outputs(PARALLEL) == ["cell0", "cell1"]
    chained, parallel = build_network(CHAINED), build_network(PARALLEL)
    n_enc = len(encoder_ops("small"))
    assert chained.ops()[:n_enc] == encoder_ops("small") == parallel.ops()[:n_enc]
    fuse = [e for e in parallel.edges if e.op.kind == "agg_concat_conv"]
    assert len(fuse) == 2 and len(fuse[-1].src) == 2
    assert fuse[-1].op.input_shape == (1, 64, 16, 32)  # at stride 8 of the 128×256 frame


def test_previous_frame_inputs_cost_what_the_cell_does_with_them():
    arch = build_network(PARALLEL)
    # prev_layer4 is projected like layer4 (320 -> 64 ch); dec needs no projection
    projections = [
        op for op in arch.ops() if op.kind == "conv" and op.p["kernel"] == 1 and op.p["out"] == 64
    ]
    assert sorted(op.input_shape[1] for op in projections) == [32, 96, 320]


def test_unknown_inputs_ops_or_aggregations_are_refused():
    with pytest.raises(LatbenchError, match="step 0"):
        build_network([("cell0", "sep_conv_3x3", "dec", "skip_connect", "weighted_sum")])
    with pytest.raises(LatbenchError, match="aggregation among"):
        build_network([("dec", "sep_conv_3x3", "dec", "skip_connect", "max")])
