"""NAS-Bench-201 genotype strings <-> Architectures, as the benchmark defines its network."""

from __future__ import annotations

import csv
import gzip
import json
import time

import pytest
import torch
from public_data import NB201_PUBLIC as PUBLIC

from latbench.architecture import compact_dict
from latbench.archs import Architecture
from latbench.archs.nasbench201 import (
    CELL_EDGES,
    OP_NAMES,
    all_genotypes,
    build_network,
    from_genotype,
    genotype_string,
    is_connected,
    live_edges,
    parse_genotype,
    space_ops,
)
from latbench.errors import DisconnectedCellError, GenotypeError, UnknownGenotypeOpError

EXAMPLE = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)


@pytest.mark.parametrize("op", OP_NAMES)
@pytest.mark.parametrize("edge", range(len(CELL_EDGES)))
def test_every_op_on_every_edge_round_trips(op: str, edge: int) -> None:
    cell = tuple(op if i == edge else "skip_connect" for i in range(6))
    text = genotype_string(cell)
    assert parse_genotype(text) == cell
    arch = from_genotype(text)
    assert arch.genotype == text and parse_genotype(arch.genotype) == cell


def test_parse_keeps_the_benchmark_edge_order() -> None:
    assert parse_genotype(EXAMPLE) == (
        "nor_conv_3x3",
        "nor_conv_3x3",
        "avg_pool_3x3",
        "skip_connect",
        "nor_conv_3x3",
        "skip_connect",
    )
    assert parse_genotype("  " + EXAMPLE + "\n") == parse_genotype(EXAMPLE)


def test_all_15625_cells_round_trip() -> None:
    strings = all_genotypes()
    assert len(set(strings)) == 5**6
    assert all(genotype_string(parse_genotype(s)) == s for s in strings)


@pytest.mark.slow
def test_public_file_strings_round_trip_through_networks() -> None:
    with gzip.open(PUBLIC, "rt", encoding="utf-8") as fh:
        strings = [row["arch_str"] for row in csv.DictReader(fh)]
    assert len(strings) == 15625 and set(strings) == set(all_genotypes())
    for s in strings:
        assert from_genotype(s).genotype == s


@pytest.mark.parametrize(
    "text, kind, fragment",
    [
        ("", GenotypeError, "1 '+'-separated nodes"),
        ("|none~0|+|none~0|none~1|", GenotypeError, "2 '+'-separated nodes"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", GenotypeError, "not enclosed"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", GenotypeError, "node 2 has 1 inputs"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", GenotypeError, "is not 'op~0'"),
        ("|none|+|none~0|none~1|+|none~0|none~1|none~2|", GenotypeError, "is not 'op~0'"),
        (
            "|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|",
            UnknownGenotypeOpError,
            "unknown op 'conv_5x5' on edge 0->1",
        ),
    ],
)
def test_bad_strings_are_one_line_errors_naming_the_string(text, kind, fragment) -> None:
    with pytest.raises(kind) as info:
        parse_genotype(text)
    msg = str(info.value)
    assert "\n" not in msg and fragment in msg and repr(text.strip()) in msg
    if kind is GenotypeError:
        assert "expected NAS-Bench-201's" in msg


def test_paper_network_is_the_benchmark_one() -> None:
    arch = from_genotype(EXAMPLE)
    assert arch.meta["size"] == "paper" and arch.meta["connected"]
    convs3 = [
        op
        for op in arch.ops()
        if op.kind == "conv" and op.p["kernel"] == 3 and op.p["stride"] == 1 and op.p["act_first"]
    ]
    # 3 nor_conv_3x3 per cell × 5 cells × 3 stages, plus the reductions' second conv (×2)
    assert len(convs3) == 3 * 5 * 3 + 2
    assert len(arch.edges) == 1 + 3 * 5 * 6 + 2 * 4 + 3
    assert len(build_network(parse_genotype(EXAMPLE), "small").edges) == 1 + 3 * 6 + 2 * 4 + 3


@pytest.mark.parametrize("n_classes, side", [(10, 32), (100, 32), (120, 16)])
def test_batch_and_classes_set_the_shapes(n_classes: int, side: int) -> None:
    arch = from_genotype(EXAMPLE, size="small", batch=4, n_classes=n_classes)
    assert arch.input_shape == (4, 3, side, side)
    with torch.no_grad():
        out = arch.build()(*arch.example_inputs())
    assert tuple(out.shape) == (4, n_classes)
    assert set(arch.ops()) <= set(space_ops((4,), n_classes))


def test_unknown_class_count_and_batch_are_refused() -> None:
    with pytest.raises(Exception, match="n_classes=1000 is not one of NAS-Bench-201"):
        from_genotype(EXAMPLE, n_classes=1000)
    with pytest.raises(Exception, match="batch=0 must be a positive integer"):
        from_genotype(EXAMPLE, batch=0)


def test_prune_drops_none_and_dead_edges() -> None:
    # node 1 gets a conv from 0 but feeds nothing live: the conv is dead
    text = "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|avg_pool_3x3~2|"
    cell = parse_genotype(text)
    assert live_edges(cell) == (1, 5)
    full = from_genotype(text, size="small")
    pruned = from_genotype(text, size="small", prune=True)
    assert sum(op.kind == "zero" for op in full.ops()) == 3 * 3  # 3 none edges, 3 cells
    assert sum(op.kind == "zero" for op in pruned.ops()) == 0

    def cell_conv1x1(arch: Architecture) -> int:
        return sum(
            op.kind == "conv" and op.p["kernel"] == 1 and op.p["act_first"] for op in arch.ops()
        )

    assert cell_conv1x1(full) == 3 and cell_conv1x1(pruned) == 0  # the dead conv is gone
    assert len(full.edges) - len(pruned.edges) == 3 * 4
    assert pruned.meta["prune"] and not full.meta["prune"]
    with torch.no_grad():
        assert tuple(pruned.build()(*pruned.example_inputs()).shape) == (1, 10)


def test_disconnected_cells_are_flagged_and_refused_when_pruned() -> None:
    text = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|"
    assert not is_connected(text)
    arch = from_genotype(text)  # as the benchmark runs it: Zero ops into the cell output
    assert arch.meta["connected"] is False
    with pytest.raises(DisconnectedCellError, match="no path from cell input to output"):
        from_genotype(text, prune=True)
    n = sum(not is_connected(s) for s in all_genotypes())
    assert 300 < n < 400  # the README of the shared data says about 340


def test_compact_json_rebuilds_the_same_network() -> None:
    for prune in (False, True):
        arch = from_genotype(EXAMPLE, batch=32, n_classes=100, prune=prune)
        text = json.dumps(compact_dict(arch))
        assert len(text) < 400 < len(arch.to_json())
        back = Architecture.from_json(text)
        assert back == arch and back.to_json() == arch.to_json()


def test_building_all_cells_is_fast_enough() -> None:
    start = time.perf_counter()
    for s in all_genotypes()[:2000]:
        from_genotype(s)
    assert time.perf_counter() - start < 3.0  # ~0.2 ms each on a loaded 2-core machine


def test_networks_are_cached_and_their_meta_read_only() -> None:
    import copy

    a, b = from_genotype(EXAMPLE), from_genotype(EXAMPLE)
    assert a is b  # a re-read table costs lookups, not rebuilds
    with pytest.raises(TypeError, match="read-only"):
        a.meta["size"] = "small"  # type: ignore[index]
    assert copy.deepcopy(a) == a and dict(copy.deepcopy(a).meta) == dict(a.meta)
    assert copy.copy(a.meta) is a.meta
    assert json.loads(a.to_json())["meta"]["batch"] == 1
