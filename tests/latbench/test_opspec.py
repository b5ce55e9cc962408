"""OpSpec: validation, stable keys, building, features."""

from __future__ import annotations

import pytest
import torch

from latbench.errors import OpSpecError, UnknownNameError
from latbench.opspec import OpSpec


def test_key_is_stable_and_round_trips():
    a = OpSpec.make("conv", (1, 16, 32, 32), kernel=3, dilation=2, out=32)
    b = OpSpec.make("conv", [1, 16, 32, 32], out=32, dilation=2, kernel=3)
    assert a == b and hash(a) == hash(b) and a.key == b.key
    assert OpSpec.from_key(a.key) == a
    assert a.key.startswith("conv|") and a.key.endswith("|1x16x32x32|float32|infer")


def test_defaults_are_filled_so_equal_modules_have_equal_keys():
    assert OpSpec.make("conv", (1, 8, 8, 8)) == OpSpec.make("conv", (1, 8, 8, 8), kernel=3)


def test_tuples_and_lists_are_the_same_parameter():
    a = OpSpec.make("conv", (1, 8, 4, 8, 8), kernel=(1, 3, 3))
    b = OpSpec.make("conv", (1, 8, 4, 8, 8), kernel=[1, 3, 3])
    assert a == b and OpSpec.from_key(a.key) == a


def test_unknown_kind_names_the_valid_ones():
    with pytest.raises(UnknownNameError, match=r"unknown op kind 'convv'; valid: .*conv"):
        OpSpec.make("convv", (1, 8, 8, 8))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(kernal=3), "takes no parameter.*kernal.*valid:.*kernel"),
        (dict(dtype="float64"), "dtype 'float64'"),
        (dict(mode="eval"), "mode 'eval'"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(OpSpecError, match=message):
        OpSpec.make("conv", (1, 8, 8, 8), **kwargs)


def test_bad_shape_is_named():
    with pytest.raises(OpSpecError, match="input shape"):
        OpSpec.make("conv", (1, 8))


@pytest.mark.parametrize(
    "key",
    [
        "conv|",
        "conv|kernel3|1x8x8x8|float32|infer",
        "conv||1xAx8|float32|infer",
        "conv|kernel=[|1x8x8x8|float32|infer",
    ],
)
def test_malformed_keys_are_named(key):
    with pytest.raises(OpSpecError):
        OpSpec.from_key(key)


def test_required_parameter_is_named():
    with pytest.raises(OpSpecError, match="needs parameter.*out"):
        OpSpec.make("linear", (1, 8))


def test_build_runs_in_dtype_and_mode():
    spec = OpSpec.make("conv", (2, 8, 8, 8), out=4, norm="bn", mode="train")
    module = spec.build()
    assert module.training
    (x,) = spec.example_inputs()
    assert x.requires_grad and x.shape == (2, 8, 8, 8)
    assert module(x).shape == (2, 4, 8, 8)
    half = spec.replace(dtype="bfloat16", mode="infer")
    assert half.example_inputs()[0].dtype == torch.bfloat16 and not half.build().training


def test_replace_validates_and_keeps_other_fields():
    spec = OpSpec.make("conv", (1, 8, 8, 8), kernel=5)
    other = spec.replace(input_shape=(2, 8, 8, 8), dilation=2)
    assert other.p["kernel"] == 5 and other.p["dilation"] == 2 and other.input_shape[0] == 2
    with pytest.raises(OpSpecError):
        spec.replace(kernal=3)


def test_features_match_the_conv_formula():
    spec = OpSpec.make("conv", (1, 16, 32, 32), out=32, kernel=3)
    f = spec.features()
    assert f["flops"] == 2 * 32 * 32 * 32 * 16 * 9
    assert f["params"] == 32 * 16 * 9
    assert f["bytes_written"] == 4 * 32 * 32 * 32
    assert f["bytes_read"] == 4 * (16 * 32 * 32 + 32 * 16 * 9)


def test_example_inputs_are_seeded():
    spec = OpSpec.make("identity", (1, 4, 4, 4))
    assert torch.equal(spec.example_inputs(seed=3)[0], spec.example_inputs(seed=3)[0])
