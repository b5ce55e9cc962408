"""Decomposing a user's model into OpSpecs (latbench.models): every op rebuilds from its key
alone and computes what the model computed; untraceable code is one line naming the module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from latbench.archs import Architecture
from latbench.errors import LatbenchError
from latbench.models import (
    ModelSpecError,
    UntraceableError,
    load_model,
    model_architecture,
    model_features,
    parse_model_spec,
    trace_model,
)
from latbench.opspec import OpSpec


def test_ops_rebuild_from_their_keys_and_compute_the_models_values(model_file: str) -> None:
    d = trace_model(f"{model_file}:net", "2,3,8,8")
    kinds = [op.spec.kind for op in d.ops]
    assert kinds[:3] == ["conv", "norm_act", "torch_module"]  # built-in kinds where exact
    assert "linear" in kinds and "torch_call" in kinds
    assert len(d.ops) >= 10
    for op in d.ops:
        spec = OpSpec.from_key(op.spec.key)
        assert spec == op.spec
        out = spec.build("cpu").eval()(*spec.example_inputs("cpu"))
        assert isinstance(out, torch.Tensor)
        assert spec.features()["output_elems"] == out.numel()
    assert d.ops[0].src == ("in",) and d.output == d.ops[-1].node


def test_architecture_row_round_trips_and_builds_the_model(model_file: str) -> None:
    d = trace_model(f"{model_file}:net", "1,3,8,8")
    arch = model_architecture(d)
    again = Architecture.from_json(arch.to_json())
    assert again.ops() == d.specs() and again.input_shape == (1, 3, 8, 8)
    out = again.build("cpu")(*again.example_inputs("cpu"))
    assert out.shape == (1, 5)
    feats = model_features(d)
    assert feats["params"] == sum(
        p.numel() for p in load_model(f"{model_file}:net", "1,3,8,8")[0].parameters()
    )
    assert feats["macs"] > 3 * 8 * 9 * 64 and feats["n_ops"] == len(d.ops)


def test_untraceable_module_is_one_line_naming_it_and_leaf_makes_it_one_op(model_file: str) -> None:
    with pytest.raises(UntraceableError) as err:
        trace_model(f"{model_file}:gated", "1,3,8,8")
    message = str(err.value)
    assert "\n" not in message and "module gate (Gate)" in message and "--leaf" in message
    d = trace_model(f"{model_file}:gated", "1,3,8,8", leaf=["Gate"])
    (gate,) = [op for op in d.ops if op.module_path == "gate"]
    assert gate.spec.kind == "submodule" and gate.spec.p["path"] == "gate"
    out = OpSpec.from_key(gate.spec.key).build()(*gate.spec.example_inputs())
    assert out.shape == (1, 8, 8, 8)


def test_ops_are_timed_on_the_layout_the_model_gives_them(model_file: str) -> None:
    """A LayerNorm on a permuted map and ops on a channels-last one run at other speeds than
    on contiguous tensors: their keys hold the strides and their example inputs have them."""
    model, shape = load_model(f"{model_file}:permuted", "1,3,16,24")
    seen: dict[str, tuple[int, ...]] = {}

    def record(module: torch.nn.Module, args: tuple) -> None:
        seen[paths[module]] = args[0].stride()

    paths = {m: p for p, m in model.named_modules() if p}
    for m in paths:
        m.register_forward_pre_hook(record)
    model(torch.randn(shape))
    d = trace_model(f"{model_file}:permuted", "1,3,16,24")
    ops = {op.module_path: op.spec for op in d.ops if op.module_path in seen}
    assert {p: s.example_inputs()[0].stride() for p, s in ops.items()} == seen
    assert seen["norm"] == (768, 12, 1, 96) and seen["act"] == (768, 1, 96, 8)
    assert ops["norm"].p["inputs"] == ("1x8x12x8:float32:768,12,1,96",)
    assert ops["stem"].kind == "conv"  # contiguous: the built-in key, as before


@pytest.mark.parametrize(
    "bad", ["1x4:float32:1", "1x4:float32:a,b", "1x4:nope", "1x4:float32:-1,1"]
)
def test_bad_input_layout_in_a_key_is_one_line(bad: str) -> None:
    key = f'torch_call|args=["$0"];fn="torch.relu";inputs=["{bad}"];kwargs=[]|1x4|float32|infer'
    with pytest.raises(LatbenchError, match="strides where not contiguous"):
        OpSpec.from_key(key)


@pytest.mark.parametrize("bad", ["resnet18", "a b:c", "x.py:", "timm:", "a|b:c"])
def test_bad_model_names_are_one_line(bad: str) -> None:
    with pytest.raises(LatbenchError, match="expected timm:NAME"):
        parse_model_spec(bad)


def test_unimportable_model_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModelSpecError, match="cannot import nosuch_pkg"):
        load_model("nosuch_pkg:resnet18", "1,3,8,8")
    with pytest.raises(ModelSpecError, match="no file"):
        load_model(f"{tmp_path}/none.py:net", "1,3,8,8")


@pytest.mark.parametrize(
    "code, call",
    [
        ("import sys\nsys.exit(5)\n", "sys.exit(5)"),
        ("def net():\n    raise SystemExit\n", "sys.exit(None)"),
    ],
)
def test_a_model_file_that_exits_is_one_line(tmp_path: Path, code: str, call: str) -> None:
    """A training script with a module-level ``sys.exit`` (or argparse) named as
    ``train.py:net``: latbench exited with the script's code and printed nothing."""
    (tmp_path / "train.py").write_text(code)
    with pytest.raises(ModelSpecError, match=rf"train.py:net'.*called {re.escape(call)}"):
        load_model(f"{tmp_path}/train.py:net", "1,3,8,8")


def test_a_model_file_that_changes_directory_does_not_move_the_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script with ``os.chdir(...)`` at its top: ``profile --model it.py:net`` then wrote
    ./latbench-tables (and any relative --out/--table) under the script's directory."""
    (tmp_path / "elsewhere").mkdir()
    code = f"import os\nfrom torch import nn\nos.chdir({str(tmp_path / 'elsewhere')!r})\n"
    (tmp_path / "it.py").write_text(code + "def net():\n    return nn.ReLU()\n")
    monkeypatch.chdir(tmp_path)
    load_model("it.py:net", "1,3,8,8")
    assert Path.cwd() == tmp_path


def test_callable_without_input_shape_asks_for_one(model_file: str) -> None:
    with pytest.raises(ModelSpecError, match="--input-shape"):
        load_model(f"{model_file}:net")


@pytest.mark.slow
def test_timm_resnet18_decomposes_with_its_own_input_size(needs_timm: None) -> None:
    d = trace_model("timm:resnet18", "1,3,32,32")
    assert sum(op.spec.kind == "conv" for op in d.ops) == 20
    assert len({op.spec.key for op in d.ops}) < len(d.ops)  # repeated blocks share keys
    assert load_model("timm:resnet18", device="meta")[1] == (1, 3, 224, 224)


def test_a_node_that_fails_on_the_input_shape_is_one_line():
    """A 3-D --input-shape for a 2-D conv: torch.fx appends the node's graph dump to the
    exception; the error stays the one line naming the node, and the model and input shape
    (with several --model flags the line did not say which model failed)."""
    from torch import nn

    from latbench.models import decompose
    from latbench.models.decompose import NodeRunError

    with pytest.raises(NodeRunError) as err:
        decompose(nn.Sequential(nn.Conv2d(3, 8, 3)), (1, 3, 32), name="m.py:net")
    text = str(err.value)
    assert "\n" not in text and text.startswith("m.py:net at 1x3x32: node _0 (module 0) fails")


def test_an_input_too_large_to_allocate_is_one_line(model_file: str) -> None:
    """``--input-shape 1,3,100000000,100000000`` (120 PB): the allocator's refusal was a
    traceback; it is one line naming the model and the shape."""
    with pytest.raises(UntraceableError) as err:
        trace_model(f"{model_file}:net", (1, 3, 10**8, 10**8))
    text = str(err.value)
    assert "\n" not in text and "cannot make an input of shape 1x3x100000000x100000000" in text


BLOCK_NET = """
from torch import nn
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 3, 1)
    def forward(self, x):
        return self.c(x){extra}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = Block()
    def forward(self, x):
        return self.b(x) + 1
def net():
    return Net()
"""


def test_same_named_files_with_other_blocks_give_other_leaf_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``net.py:net --leaf Block`` in two folders (or one file edited between runs): the
    ``submodule`` key named only the model text and the path, so the second Block (20x the
    work) was "already in table" with the first one's latency."""
    keys = []
    for folder, extra in (("a", ""), ("b", ".relu()")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "net.py").write_text(BLOCK_NET.format(extra=extra))
        monkeypatch.chdir(tmp_path / folder)
        d = trace_model("net.py:net", "1,3,8,8", leaf=["Block"])
        keys.append(next(op.spec for op in d.ops if op.spec.kind == "submodule"))
    assert keys[0].key != keys[1].key
    monkeypatch.chdir(tmp_path / "a")
    keys[0].build()  # the block traced rebuilds from its key
    forged = OpSpec.from_key(keys[0].key.replace(keys[0].p["digest"], keys[1].p["digest"]))
    with pytest.raises(LatbenchError, match="not the block this key was traced from"):
        forged.build()
