"""Decomposing a user's model into OpSpecs (latbench.models): every op rebuilds from its key
alone and computes what the model computed; untraceable code is one line naming the module."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch

from latbench.archs import Architecture
from latbench.errors import LatbenchError, MissingDependencyError
from latbench.models import (ModelSpecError, UntraceableError, import_library, load_model,
                             model_architecture, model_features, parse_model_spec, trace_model)
from latbench.opspec import OpSpec

MODEL = textwrap.dedent('''
    import torch
    from torch import nn

    class Gate(nn.Module):
        """Data-dependent control flow: torch.fx cannot trace it."""
        def forward(self, x):
            if x.sum() > 0:
                return x * 2
            return x

    class Net(nn.Module):
        def __init__(self, gated=False):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.act = nn.GELU()
            self.gate = Gate() if gated else nn.Identity()
            self.proj = nn.Conv2d(8, 8, 1, bias=False)
            self.head = nn.Linear(8, 5)

        def forward(self, x):
            y = self.act(self.bn(self.conv(x)))
            y = self.gate(y)
            y = y + self.proj(y).softmax(dim=1)
            y = torch.cat([y, y * 0.5], dim=1)[:, :8]
            return self.head(y.flatten(2).mean(-1))

    def net():
        return Net()

    def gated():
        return Net(gated=True)
''')


def needs_timm() -> None:
    """Skip without timm (imported through latbench's loader: torchvision's fallback)."""
    try:
        import_library("timm")
    except MissingDependencyError:
        pytest.skip("timm is not installed (the 'models' extra)")


@pytest.fixture()
def model_file(tmp_path: Path) -> str:
    path = tmp_path / "mynet.py"
    path.write_text(MODEL)
    return str(path)


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
    assert feats["params"] == sum(p.numel() for p in load_model(f"{model_file}:net",
                                                                 "1,3,8,8")[0].parameters())
    assert feats["macs"] > 3 * 8 * 9 * 64 and feats["n_ops"] == len(d.ops)


def test_untraceable_module_is_one_line_naming_it_and_leaf_makes_it_one_op(
        model_file: str) -> None:
    with pytest.raises(UntraceableError) as err:
        trace_model(f"{model_file}:gated", "1,3,8,8")
    message = str(err.value)
    assert "\n" not in message and "module gate (Gate)" in message and "--leaf" in message
    d = trace_model(f"{model_file}:gated", "1,3,8,8", leaf=["Gate"])
    (gate,) = [op for op in d.ops if op.module_path == "gate"]
    assert gate.spec.kind == "submodule" and gate.spec.p["path"] == "gate"
    out = OpSpec.from_key(gate.spec.key).build()(*gate.spec.example_inputs())
    assert out.shape == (1, 8, 8, 8)


@pytest.mark.parametrize("bad", ["resnet18", "a b:c", "x.py:", "timm:", "a|b:c"])
def test_bad_model_names_are_one_line(bad: str) -> None:
    with pytest.raises(LatbenchError, match="expected timm:NAME"):
        parse_model_spec(bad)


def test_unimportable_model_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModelSpecError, match="cannot import nosuch_pkg"):
        load_model("nosuch_pkg:resnet18", "1,3,8,8")
    with pytest.raises(ModelSpecError, match="no file"):
        load_model(f"{tmp_path}/none.py:net", "1,3,8,8")


def test_callable_without_input_shape_asks_for_one(model_file: str) -> None:
    with pytest.raises(ModelSpecError, match="--input-shape"):
        load_model(f"{model_file}:net")


@pytest.mark.slow
def test_timm_resnet18_decomposes_with_its_own_input_size() -> None:
    needs_timm()
    d = trace_model("timm:resnet18", "1,3,32,32")
    assert sum(op.spec.kind == "conv" for op in d.ops) == 20
    assert len({op.spec.key for op in d.ops}) < len(d.ops)  # repeated blocks share keys
    assert load_model("timm:resnet18", device="meta")[1] == (1, 3, 224, 224)
