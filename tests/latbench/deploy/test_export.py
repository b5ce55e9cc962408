"""ONNX export: checked files, opset recorded, same numbers as PyTorch, clear errors."""

from __future__ import annotations

import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from latbench.deploy.export import ExportError, export_onnx, read_onnx
from latbench.errors import MissingDependencyError


def _ort_out(path, inputs):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: t.numpy() for i, t in zip(sess.get_inputs(), inputs)}
    return sess.run(None, feed)[0]


def test_nasbench201_export_is_checked_with_opset_recorded(exported_nb201):
    module, inputs, ex = exported_nb201
    proto = onnx.load(str(ex.path))
    onnx.checker.check_model(proto, full_check=True)
    assert ex.opset == 17 and [o.version for o in proto.opset_import if o.domain == ""] == [17]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["latbench.opset"] == "17" and meta["latbench.exporter"] == "torchscript"
    assert ex.input_shapes == ((1, 3, 32, 32),) and ex.output_shapes == ((1, 10),)
    with torch.no_grad():
        expected = module(*inputs).numpy()
    np.testing.assert_allclose(_ort_out(ex.path, inputs), expected, rtol=1e-4, atol=1e-5)


class _Warp(torch.nn.Module):
    """A grid_sample aggregation like the dynamic cells' affine-grid op."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        theta = torch.tensor([[[0.9, 0.1, 0.0], [-0.1, 0.9, 0.0]]])
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", align_corners=False)


class _Sample(torch.nn.Module):
    """grid_sample with a given grid (the predicted-offset aggregations)."""

    def forward(self, x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        return F.grid_sample(x, grid, mode="bilinear", align_corners=False)


def test_grid_sample_exports_at_opset_16_and_matches_torch(tmp_path):
    x, grid = torch.randn(1, 4, 8, 8), torch.rand(1, 8, 8, 2) * 2 - 1
    ex = export_onnx(_Sample(), tmp_path / "s.onnx", inputs=(x, grid), opset=16)
    assert ex.opset == 16 and ex.input_names == ("input0", "input1")
    np.testing.assert_allclose(_ort_out(ex.path, (x, grid)), _Sample()(x, grid).numpy(), atol=1e-5)


def test_affine_grid_needs_opset_20_and_the_error_says_so(tmp_path):
    x = torch.randn(1, 4, 8, 8)
    with pytest.raises(ExportError, match="version 20"):
        export_onnx(_Warp(), tmp_path / "w16.onnx", inputs=(x,), opset=16)
    ex = export_onnx(_Warp(), tmp_path / "w20.onnx", inputs=(x,), opset=20)
    np.testing.assert_allclose(_ort_out(ex.path, (x,)), _Warp()(x).numpy(), atol=1e-5)


def test_opset_below_16_is_refused_naming_the_minimum(nb201, tmp_path):
    with pytest.raises(ExportError, match=">= 16"):
        export_onnx(nb201, tmp_path / "a.onnx", opset=13)


def test_unknown_exporter_names_the_valid_ones(nb201, tmp_path):
    with pytest.raises(ExportError, match="torchscript, dynamo"):
        export_onnx(nb201, tmp_path / "a.onnx", exporter="tvm")


def test_dynamo_exporter_without_onnxscript_gives_install_hint(nb201, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(MissingDependencyError, match="pip install onnxscript"):
        export_onnx(nb201, tmp_path / "a.onnx", exporter="dynamo")


def test_plain_module_needs_inputs(tmp_path):
    with pytest.raises(ExportError, match="inputs="):
        export_onnx(torch.nn.ReLU(), tmp_path / "r.onnx")


def _relu_file(path, shape, elem=onnx.TensorProto.FLOAT):
    """A one-Relu ONNX file whose input has ``shape`` (None or a name: dynamic) and ``elem``."""
    h = onnx.helper
    x = h.make_tensor_value_info("x", elem, shape)
    y = h.make_tensor_value_info("y", elem, None)
    graph = h.make_graph([h.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), path)
    return path


@pytest.mark.parametrize(
    "shape, elem, given, needle",
    [
        ([1, 3, 8, 8], onnx.TensorProto.INT64, None, "input 'x' is int64; validate feeds float32"),
        ([1, 3, 8, 8], onnx.TensorProto.FLOAT16, None, "input 'x' is float16"),
        ([0, 3, 8, 8], onnx.TensorProto.FLOAT, None, "sizes must be >= 1"),
        (["N", 3, None, 8], onnx.TensorProto.FLOAT, (1, 5, 8, 8), "not --input-shape [1, 5, 8, 8]"),
        (["N", 3, None, 8], onnx.TensorProto.FLOAT, (1, 3, 8), "not --input-shape [1, 3, 8]"),
    ],
)
def test_an_onnx_input_that_validate_cannot_feed_is_one_line(tmp_path, shape, elem, given, needle):
    """An int64/float16 input, a size 0, or an --input-shape contradicting the file's fixed
    sizes: each was an ONNX Runtime (or numpy) traceback from inside the run."""
    path = _relu_file(tmp_path / "m.onnx", shape, elem)
    with pytest.raises(ExportError, match="m.onnx: input 'x'") as err:
        read_onnx(path, given)
    assert needle in str(err.value)


def test_an_onnx_input_shape_fills_only_the_dynamic_sizes(tmp_path):
    path = _relu_file(tmp_path / "m.onnx", ["N", 3, None, 8])
    assert read_onnx(path, (2, 3, 16, 8)).input_shapes == ((2, 3, 16, 8),)
    with pytest.raises(ExportError, match="dynamic shape"):
        read_onnx(path)


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda p: p.write_bytes(b""), "ONNX Runtime cannot load or run it on inputs of none"),
        (lambda p: _relu_file(p, [10**5, 3, 10**5, 10**5]), "ran out of memory"),
    ],
)
def test_an_onnx_file_ort_cannot_run_is_one_line(tmp_path, make, needle):
    """An empty file (it parses: an empty ModelProto) and an input of 3e15 floats: ONNX
    Runtime's and the allocator's errors were tracebacks."""
    from latbench.deploy.validate import validate_onnx
    from latbench.errors import LatbenchError

    path = tmp_path / "m.onnx"
    make(path)
    with pytest.raises(LatbenchError, match="m.onnx: ") as err:
        validate_onnx(path, options=None)
    assert needle in str(err.value) and "\n" not in str(err.value)
