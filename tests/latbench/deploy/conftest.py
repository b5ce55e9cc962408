"""Fixtures for deployment tests: a small architecture exported once per session."""

from __future__ import annotations

import pytest

from latbench.archs import sample_architectures


@pytest.fixture(scope="session")
def nb201():
    return sample_architectures("nasbench201", 1, "small", seed=0)[0]


@pytest.fixture(scope="session")
def exported_nb201(nb201, tmp_path_factory):
    from latbench.deploy.export import export_onnx

    module = nb201.build("cpu").eval()
    inputs = nb201.example_inputs("cpu")
    path = tmp_path_factory.mktemp("onnx") / "nb201.onnx"
    return module, inputs, export_onnx(module, path, inputs=inputs)


@pytest.fixture
def no_tensorrt(monkeypatch):
    """Make ``import tensorrt`` fail, whether or not it is installed."""
    import sys

    monkeypatch.setitem(sys.modules, "tensorrt", None)
