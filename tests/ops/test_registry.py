"""Every registered op kind: builds, runs, agrees with its meta-device features, round-trips."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F

from latbench.errors import OpSpecError, UnknownNameError
from latbench.features import op_features, output_shape
from latbench.ops import list_op_kinds
from latbench.opspec import OpSpec

# One representative (input shape, params) per kind. A new kind without an entry fails below.
EXAMPLES: dict[str, tuple[tuple[int, ...], dict[str, Any]]] = {
    "conv": ((2, 4, 9, 10), dict(out=6, kernel=3, dilation=2, norm="bn", act="relu")),
    "sepconv": ((1, 4, 5, 6, 7), dict(kernel=(1, 3, 3), norm="bn", act="relu")),
    "pool": ((1, 4, 8, 8), dict(reduce="avg", kernel=3, stride=1)),
    "upsample": ((1, 3, 4, 4, 4), dict(scale=2)),
    "identity": ((1, 4, 6, 6), {}),
    "zero": ((1, 4, 6, 6), {}),
    "norm_act": ((2, 4, 6, 6), {}),
    "global_pool": ((2, 4, 6, 6), {}),
    "linear": ((2, 16), dict(out=10)),
    "deform_conv": ((1, 4, 9, 11), dict(out=6, dilation=2)),
    "gap_upsample_conv": ((1, 8, 6, 10), {}),
    "agg_weighted_sum": ((2, 4, 6, 7), {}),
    "agg_concat_conv": ((2, 4, 6, 7), {}),
    "agg_predict_filter": ((2, 4, 6, 7), dict(kernel=3)),
    "agg_affine_sample": ((2, 4, 6, 7), {}),
    "agg_conv3d": ((2, 4, 6, 7), {}),
    "agg_attention": ((2, 4, 6, 7), {}),
    "swin_block": ((1, 9, 12, 16), dict(heads=2, window=4, shift=True)),
    "patch_embed": ((1, 3, 18, 22), dict(out=16)),
    "mbv3_conv": ((1, 3, 16, 16), dict(out=8, kernel=3, stride=2)),
    "mbv3_block": ((1, 8, 10, 10), dict(out=8, mid=24, kernel=5, act="h_swish", se=True)),
    "mbv3_feature_mix": ((2, 16), dict(out=32)),
    "patch_merging": ((1, 5, 7, 8), {}),
    "layer_norm": ((1, 5, 7, 8), {}),
    "mbv2_block": ((1, 8, 10, 10), dict(out=8, stride=1)),
    "p3d": ((1, 4, 6, 6, 6), dict(out=6, kernel=(3, 1, 3))),
    "factorized_reduce": ((1, 4, 6, 6, 6), dict(out=8, norm="in")),
    "torch_call": (
        (2, 4, 6, 6),
        dict(fn="torch.add", inputs=("2x4x6x6:float32", "4x1x1:float32"), args=("$0", "$1")),
    ),
    "torch_module": (
        (2, 4, 6, 6),
        dict(
            module="torch.nn.Conv2d",
            inputs=("2x4x6x6:float32",),
            init=(("in_channels", 4), ("out_channels", 6), ("kernel_size", (3, 3))),
            args=("$0",),
        ),
    ),
    "submodule": (
        (1, 4, 6, 6),
        dict(
            model="torch.nn:ReLU",
            shape="1x4x6x6",
            path=".",
            inputs=("1x4x6x6:float32",),
            args=("$0",),
        ),
    ),
}


def example(kind: str, **overrides: Any) -> OpSpec:
    if kind not in EXAMPLES:
        pytest.fail(f"op kind {kind!r} has no example in tests/ops/test_registry.py: add one")
    shape, params = EXAMPLES[kind]
    return OpSpec.make(kind, shape, **{**params, **overrides})


def test_every_kind_has_an_example() -> None:
    missing = sorted(set(list_op_kinds()) - set(EXAMPLES))
    assert not missing, f"op kinds without an example: {missing}"
    assert not sorted(set(EXAMPLES) - set(list_op_kinds())), "examples of unregistered kinds"


@pytest.mark.parametrize("kind", list_op_kinds())
def test_kind_runs_and_matches_its_features(kind: str) -> None:
    spec = example(kind)
    module = spec.build("cpu")
    inputs = spec.example_inputs("cpu")
    assert len(inputs) == spec.n_inputs
    with torch.no_grad():
        out = module(*inputs)
    assert tuple(out.shape) == output_shape(spec)
    assert torch.isfinite(out).all()
    feats = op_features(spec)
    assert feats["flops"] >= 0
    assert feats["params"] == sum(p.numel() for p in module.parameters())
    assert OpSpec.from_key(spec.key) == spec


@pytest.mark.parametrize("kind", list_op_kinds())
def test_kind_trains(kind: str) -> None:
    spec = example(kind, mode="train")
    inputs = spec.example_inputs("cpu")
    spec.build("cpu")(*inputs).sum().backward()
    assert all(x.grad is not None for x in inputs)


def test_deform_conv_without_offsets_is_a_convolution() -> None:
    spec = example("deform_conv", norm="none", act="none")
    module = spec.build()  # norm and act off: the module is the deformable conv itself
    (x,) = spec.example_inputs()
    weight = module.weight.view(6, 4, 3, 3)
    torch.testing.assert_close(module(x), F.conv2d(x, weight, padding=2, dilation=2))


def test_affine_sample_starts_as_identity_and_attention_gates() -> None:
    a, b = example("agg_affine_sample").example_inputs()
    torch.testing.assert_close(example("agg_affine_sample").build()(a, b), a)
    torch.testing.assert_close(example("agg_attention").build()(a, b), a * torch.sigmoid(b))


def test_swin_block_pads_and_masks() -> None:
    from latbench.ops.transformer import shift_mask

    mask = shift_mask(14, 14, 7, 3)
    assert mask.shape == (4, 49, 49)
    assert (mask[0] == 0).all() and (mask[-1] != 0).any()
    small = OpSpec.make("swin_block", (1, 3, 5, 8), heads=2, shift=True)  # map < window
    assert output_shape(small) == (1, 3, 5, 8)


def test_mbv2_block_residual_only_when_shapes_allow() -> None:
    assert example("mbv2_block").build().residual
    assert not example("mbv2_block", stride=2).build().residual
    assert output_shape(example("mbv2_block", out=16, stride=2)) == (1, 16, 5, 5)


def test_unknown_kind_names_it_and_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as err:
        OpSpec.make("deformable", (1, 4, 8, 8))
    assert "'deformable'" in str(err.value) and "deform_conv" in str(err.value)


def test_unknown_parameter_names_it_and_the_valid_ones() -> None:
    with pytest.raises(OpSpecError) as err:
        example("swin_block", bogus=1)
    assert all(n in str(err.value) for n in ("bogus", "heads", "window", "shift"))


def test_mode_is_reserved_for_infer_and_train() -> None:
    with pytest.raises(OpSpecError, match="mode 'fast' is not one of infer, train"):
        example("p3d", mode="fast")


@pytest.mark.parametrize(
    "kind, changes, needles",
    [
        ("deform_conv", dict(norm="gn"), ("norm='gn'", "none, bn, in")),
        ("mbv2_block", dict(stride=3), ("stride=3", "1, 2")),
        ("p3d", dict(kernel=(3, 3, 3)), ("(3, 3, 3)", "(3, 3, 1)")),
        ("swin_block", dict(heads=3), ("heads=3", "C=16")),
        ("factorized_reduce", dict(input_shape=(1, 4, 5, 6, 6)), ("(5, 6, 6)", "even")),
    ],
)
def test_bad_parameter_value_names_it_and_the_valid_ones(
    kind: str, changes: dict, needles: tuple[str, ...]
) -> None:
    with pytest.raises(OpSpecError) as err:  # refused when the spec is made, not when built
        example(kind).replace(**changes)
    assert all(n in str(err.value) for n in needles), str(err.value)


def test_a_kind_is_described_by_its_whole_first_paragraph() -> None:
    """`latbench ops` prints the description: a docstring's first paragraph wrapped over two
    lines is joined, not cut at the first line break; the paragraphs after it are left out."""
    from latbench.ops import get_op_kind

    conv = get_op_kind("conv").doc
    assert "\n" not in conv and conv.endswith("temporal 1D as (k,1,1)).")
    assert get_op_kind("pool").doc.endswith("NAS-Bench-201's avg_pool_3x3).")
    p3d = "DiNTS pseudo-3D op: ReLU, 2D-plane conv, complementary 1D conv, norm."
    assert get_op_kind("p3d").doc == p3d
