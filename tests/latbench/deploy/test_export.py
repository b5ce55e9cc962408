"""ONNX export: checked files, opset recorded, same numbers as PyTorch, clear errors."""

from __future__ import annotations

import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from latbench.deploy.export import ExportError, export_onnx
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
