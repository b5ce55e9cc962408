"""ST-NAS' protocol times an encoder of given depths (the searched "Swin Short"): blocks kept
from each stage's start, from the decoder's meta or ``--encoder-depths``, full by default."""

from __future__ import annotations

import dataclasses
import json

import pytest

from latbench.archs.registry import architecture_from_ref
from latbench.cli import main
from latbench.deploy.protocols import ProtocolOptions
from latbench.errors import LatbenchError
from latbench.papers.stnas import encoder
from latbench.papers.stnas.protocol import encoder_depths, run, stnas_encoder_module

SHORT = (1, 2, 3, 2)  # the paper's Swin Short (Sect. 4)


def test_a_shallower_encoder_keeps_the_first_blocks_of_each_stage():
    full, short = encoder.encoder_ops("small"), encoder.encoder_ops("small", depths=SHORT)
    blocks = [op for op in short if op.kind == "swin_block"]
    assert len(blocks) == sum(SHORT) < sum(op.kind == "swin_block" for op in full) == 12
    kept = [b for s, d in enumerate(SHORT) for b in encoder.stage_blocks(s, "small")[:d]]
    assert blocks == kept  # stage 3 keeps W-MSA, SW-MSA, W-MSA: dropped from its end
    assert [op for op in short if op.kind != "swin_block"] == [
        op for op in full if op.kind != "swin_block"
    ]  # patch embedding, merging and the output norm unchanged
    deep, _, _ = stnas_encoder_module("small", 64, (4, 7))
    shallow, frame, _ = stnas_encoder_module("small", 64, (4, 7), SHORT)
    assert len(shallow) == len(deep) - 4 and frame == (1, 3, 64, 112)


@pytest.mark.parametrize("depths", [(1, 2, 3), (0, 2, 3, 2), (1, 2, 7, 2), (1.5, 2, 3, 2), ()])
def test_bad_depths_are_one_line(depths):
    with pytest.raises(LatbenchError, match=r"need one per stage \(4 stages\).*\(2,2,6,2\)") as e:
        encoder.check_depths("small", depths)
    assert "\n" not in str(e.value)


def _decoder(**meta):  # noqa: ANN003, ANN202
    arch = architecture_from_ref("stnas-decoder:0")
    return dataclasses.replace(arch, meta={**arch.meta, **meta})


def test_depths_come_from_the_meta_else_the_option_else_full_depth():
    meta, option = _decoder(encoder_depths=[1, 2, 3, 2]), ProtocolOptions(encoder_depths=SHORT)
    assert encoder_depths(meta, ProtocolOptions()) == (
        [1, 2, 3, 2],
        "the decoder's meta encoder_depths",
    )
    assert encoder_depths(meta, option)[1] == "the decoder's meta encoder_depths"  # the same
    assert encoder_depths(_decoder(), option) == (SHORT, "--encoder-depths")
    assert encoder_depths(_decoder(), ProtocolOptions()) == (None, "default: full depth")


def test_depths_from_the_meta_are_checked_in_one_line():
    with pytest.raises(LatbenchError, match="not a list of blocks kept per stage"):
        run(_decoder(encoder_depths="1,2,3,2"), ProtocolOptions(n_frames=2))
    with pytest.raises(LatbenchError, match="meta encoder_depths: .*need one per stage"):
        run(_decoder(encoder_depths=[1, 2]), ProtocolOptions(n_frames=2))
    with pytest.raises(LatbenchError, match="sets encoder_depths \\[1, 2, 3, 2\\]; .* differs"):
        run(_decoder(encoder_depths=[1, 2, 3, 2]), ProtocolOptions(encoder_depths=(2, 2, 6, 2)))


def test_validate_times_the_depths_of_an_architecture_file_or_the_option(tmp_path, capsys):
    path = tmp_path / "short.json"
    path.write_text(_decoder(encoder_depths=list(SHORT)).to_json())
    base = ["validate", "--protocol", "stnas", "--n-frames", "2", "--out", str(tmp_path), "--json"]
    for argv, source in (
        ([str(path)], "the decoder's meta"),
        (["stnas-decoder:0", "--encoder-depths", "1,2,3,2"], "--encoder-depths"),
    ):
        assert main([*base, *argv]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["notes"][0].startswith(f"encoder blocks per stage 1,2,3,2 ({source}")
        assert doc["fps"] > 0


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--encoder-depths", "1,2,3,2"], "give it with --protocol stnas"),
        (["--protocol", "stnas", "--encoder-depths", "1,2,7,2"], "--encoder-depths: stnas-enc"),
    ],
)
def test_validate_refuses_bad_encoder_depths_in_one_line(argv, needle, tmp_path, capsys):
    assert main(["validate", "stnas-decoder:0", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
