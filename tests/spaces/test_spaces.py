"""Every registered space: both sizes build, small ops run fast on CPU, pieces are covered."""

from __future__ import annotations

import time

import pytest
import torch

from latbench.errors import LatbenchError, UnknownNameError
from latbench.features import output_shape
from latbench.opspec import OpSpec
from latbench.papers.cakes import space as cakes
from latbench.papers.dyncell import space as dyncell
from latbench.papers.hypersegnas import space as dints
from latbench.papers.rtdnas import space as msnas
from latbench.papers.stnas import decoder as stnas_decoder
from latbench.papers.stnas import encoder as stnas_encoder
from latbench.spaces import SIZES, get_space, list_spaces

SMALL_BUDGET_S = 5.0  # summed forward time of a whole small space on 2 CPU cores
MAX_SMALL_OPS = 60
MAX_META_BUILDS = 150  # paper ops built on meta per space (60-100 ms each)


@pytest.mark.parametrize(
    "size", [pytest.param(s, marks=pytest.mark.slow) if s == "paper" else s for s in SIZES]
)
@pytest.mark.parametrize("name", list_spaces())
def test_space_builds_with_unique_keys(name: str, size: str) -> None:
    ops = get_space(name).ops(size)
    assert ops and all(isinstance(op, OpSpec) for op in ops)
    keys = [op.key for op in ops]
    assert len(set(keys)) == len(keys)
    if size == "paper":  # the paper's shapes are too big to run here: build them on meta
        step = max(1, len(ops) // MAX_META_BUILDS)  # ofa-mbv3 lists 7,542: a fixed stride
        for op in ops[::step]:
            assert all(s > 0 for s in output_shape(op)), op.key


@pytest.fixture
def one_thread():
    """Time with one intra-op thread: on a shared 2-core machine, OpenMP's busy-waiting
    threads make a busy neighbour cost 10-100× (measured), which would fail the budget."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", list_spaces())
def test_small_space_runs_fast_on_cpu(name: str, one_thread: None) -> None:
    ops = get_space(name).ops("small")
    assert len(ops) <= MAX_SMALL_OPS
    total_s = 0.0
    with torch.no_grad():
        for op in ops:
            module, inputs = op.build("cpu"), op.example_inputs("cpu")
            out = module(*inputs)  # first call: allocation and kernel selection, untimed
            assert tuple(out.shape) == output_shape(op), op.key
            best = float("inf")
            for _ in range(2):  # best of two, so a busy neighbour does not fail the test
                start = time.perf_counter()
                module(*inputs)
                best = min(best, time.perf_counter() - start)
            total_s += best
    assert total_s < SMALL_BUDGET_S, f"{name}: small ops take {total_s:.2f} s in all"


def test_unknown_space_and_size_name_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as err:
        get_space("stnas")
    assert "'stnas'" in str(err.value) and "stnas-encoder" in str(err.value)
    with pytest.raises(LatbenchError, match="'huge'.*valid: small, paper"):
        get_space("dints").ops("huge")
    with pytest.raises(LatbenchError, match="'huge'.*valid: paper, small"):
        msnas.cell_ops(0, "huge")
    with pytest.raises(LatbenchError, match="'swin-l'.*valid: swin-t, swin-b"):
        stnas_encoder.stage_blocks(0, "paper", "swin-l")


def _covered(space: str, size: str, ops: list[OpSpec | None]) -> None:
    keys = {op.key for op in get_space(space).ops(size)}
    missing = [op.key for op in ops if op is not None and op.key not in keys]
    assert not missing, f"{space}/{size} lacks ops its pieces use: {missing}"


@pytest.mark.parametrize("size", SIZES)
def test_stnas_pieces(size: str) -> None:
    for variant in stnas_encoder.variants(size):
        depths = [len(stnas_encoder.stage_blocks(s, size, variant)) for s in range(4)]
        assert depths == list(stnas_encoder.VARIANTS[variant].depths)
        _covered("stnas-encoder", size, stnas_encoder.encoder_ops(size, variant))
    assert stnas_encoder.stage_shapes("paper")[-1] == (10, 18, 768)
    for dilation in stnas_decoder.layer_dilations(size):
        layer = stnas_decoder.layer_ops(dilation, size)
        assert tuple(layer) == stnas_decoder.OP_NAMES and len(layer) == 7
        _covered("stnas-decoder", size, list(layer.values()))
    _covered("stnas-decoder", size, list(stnas_decoder.fixed_ops(size).values()))


@pytest.mark.parametrize("size", SIZES)
def test_msnas_pieces(size: str) -> None:
    pieces: list[OpSpec] = [msnas.stem_op(size), *msnas.head_ops(size)]
    for scale in range(len(msnas.scales(size))):
        assert tuple(msnas.cell_ops(scale, size)) == msnas.OP_NAMES
        pieces += msnas.cell_ops(scale, size).values()
        for cell_type in msnas.legal_cell_types(scale, size):
            pieces += msnas.scaling_ops(cell_type, scale, size)
    _covered("msnas", size, pieces)
    with pytest.raises(LatbenchError, match="legal there"):
        msnas.scaling_ops("expanding", 0, size)


@pytest.mark.parametrize("size", SIZES)
def test_cakes_and_dints_pieces(size: str) -> None:
    for scale in range(len(cakes.scales(size))):
        subs = cakes.subkernel_ops(scale, size)
        assert list(subs) == ["1x1x3", "1x3x1", "3x1x1", "1x3x3", "3x1x3", "3x3x1", "3x3x3"]
        _covered("cakes", size, [*subs.values(), cakes.aggregate_op(scale, size)])
    assert [cakes.subkernel_dims(k) for k in cakes.SUBKERNELS] == [1, 1, 1, 2, 2, 2, 3]
    pieces = [*dints.final_ops(size)]
    for scale in range(len(dints.scales(size))):
        assert tuple(dints.edge_ops(scale, size)) == dints.OP_NAMES
        assert tuple(dints.edge_ops(scale, size, p3d=False)) == dints.HYPERSEG_OP_NAMES
        pieces += [
            *dints.edge_ops(scale, size).values(),
            *dints.stem_down_ops(scale, size),
            *dints.stem_up_ops(scale, size),
        ]
    for src, dst in dints.edges(size):
        pieces += dints.resample_ops(src, dst, size)
    _covered("dints", size, pieces)
    assert len(dints.edges("paper")) == 10
    assert dints.scales("paper") == [(32, 48), (64, 24), (128, 12), (256, 6)]


@pytest.mark.parametrize("size", SIZES)
def test_dyncell_pieces(size: str) -> None:
    encoder = dyncell.encoder_ops(size)
    assert len(encoder) == 1 + sum(n for _, _, n, _ in dyncell.MOBILENET_V2)
    pieces = [*encoder, *(dyncell.projection_op(layer, size) for layer in dyncell.INPUTS)]
    for stride in dyncell.STRIDES:
        assert tuple(dyncell.cell_ops(stride, size)) == dyncell.OP_NAMES
        assert tuple(dyncell.aggregation_ops(stride, size)) == dyncell.AGG_NAMES
        pieces += [
            *dyncell.cell_ops(stride, size).values(),
            *dyncell.aggregation_ops(stride, size).values(),
        ]
    pieces += [dyncell.resize_op(32, 8, size), *dyncell.head_ops(2, size)]
    _covered("dyncell", size, pieces)
    assert dyncell.projection_op("dec", size) is None
    last = dyncell.encoder_ops("paper")[-1]
    assert output_shape(last) == (1, 320, 32, 64)  # layer4 at 1/32 of 2048×1024
