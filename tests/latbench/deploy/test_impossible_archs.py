"""Architectures that cannot run: an even-kernel stride-1 pool (it grows the map) is refused
when its key is parsed, and an op too large for the machine is one line in validate, not the
CPU allocator's traceback."""

from __future__ import annotations

import json

import pytest

from latbench.architecture import Edge
from latbench.archs import Architecture
from latbench.cli import main
from latbench.errors import OpSpecError
from latbench.opspec import OpSpec

GROWING_POOL = 'pool|kernel=2;reduce="max";stride=1|1x16x8x8|float32|infer'


@pytest.mark.parametrize(
    "key, needle",
    [
        (GROWING_POOL, "even kernel's padding grows the map"),
        ('pool|kernel=[2,3];reduce="avg";stride=1|1x16x8x8|float32|infer', "even kernel"),
    ],
)
def test_stride_one_pools_that_grow_the_map_are_refused(key, needle):
    with pytest.raises(OpSpecError, match=needle):
        OpSpec.from_key(key)


def _arch_file(tmp_path, op_key: str):
    conv = OpSpec.make("conv", (1, 16, 8, 8), out=16)
    edges = [
        {"src": ["in"], "dst": "n1", "op": conv.key},
        {"src": ["n1"], "dst": "n2", "op": op_key},
    ]
    path = tmp_path / "arch.json"
    path.write_text(json.dumps({"space": "custom", "output": "n2", "edges": edges}))
    return path


@pytest.mark.parametrize("command", [["validate"], ["memory"]])
def test_an_architecture_holding_a_growing_pool_is_one_line(tmp_path, capsys, command):
    path = _arch_file(tmp_path, GROWING_POOL)
    argv = [*command, str(path), "--out", str(tmp_path / "out")]
    if command == ["memory"]:
        argv = ["memory", str(path), "--predict"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "edges[1].op" in err[0] and "grows the map" in err[0]


def test_an_op_too_large_for_the_machine_is_one_line_in_validate(tmp_path, capsys):
    huge = Architecture(
        "custom", (Edge(("in",), "n1", OpSpec.make("conv", (1, 16, 8, 8), out=10**9)),), "n1"
    )
    path = tmp_path / "huge.json"
    path.write_text(huge.to_json())
    assert main(["validate", str(path), "--backend", "torch", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ran out of memory" in err[0] and "Traceback" not in err[0]
