"""MobileNetV3 op kinds against published network sizes (OFA definitions).

Counting follows OFA's ``ofa/utils/flops_counter.py``: multiply-accumulates of convs and linear
layers (``features()["flops"]`` counts 2 per MAC, so MACs = flops / 2), parameters including
BN's affine weights.
"""

from __future__ import annotations

import pytest
import torch

from latbench.archs.ofa_mbv3 import conv_out, subnet_ops
from latbench.errors import OpSpecError
from latbench.ops.mobilenetv3 import make_divisible
from latbench.opspec import OpSpec


def _macs_params(ops: list[OpSpec]) -> tuple[float, int]:
    macs = sum(op.features()["flops"] for op in ops) / 2
    return macs, int(sum(op.features()["params"] for op in ops))


@pytest.mark.slow
def test_ofa_specialised_flops_595m_subnet() -> None:
    """OFA model zoo net ``flops@595M_top1@80.0_finetune@75`` (mit-han-lab/once-for-all,
    ofa/model_zoo.py; its net.config / run.config are copied verbatim in
    Alibaba-MIIL/ImageNet21K src_files/models/ofa/specialized_models_configs/): a w1.2
    subnet at 236 px. Published: 595 M MACs (the id gives whole millions)."""
    ks = [3, 5, 3, 0, 5, 5, 3, 5, 7, 5, 3, 5, 3, 5, 7, 3, 3, 3, 5, 3]
    e = [3, 4, 3, 0, 4, 4, 6, 3, 6, 6, 3, 4, 6, 6, 6, 4, 6, 6, 6, 3]
    ops = subnet_ops(ks, e, [3, 4, 4, 4, 4], 236, 1.2)
    macs, _ = _macs_params(ops)
    assert round(macs / 1e6) == 595
    first, block0, last_mix = ops[0], ops[1], ops[-2]
    assert (first.p["out"], block0.p["out"], last_mix.p["out"]) == (24, 24, 1536)  # net.config


MBV3_LARGE = (  # OFA networks/mobilenet_v3.py MobileNetV3Large cfg: k, mid, out, se, act, s
    (3, 16, 16, False, "relu", 1),
    (3, 64, 24, False, "relu", 2),
    (3, 72, 24, False, "relu", 1),
    (5, 72, 40, True, "relu", 2),
    (5, 120, 40, True, "relu", 1),
    (5, 120, 40, True, "relu", 1),
    (3, 240, 80, False, "h_swish", 2),
    (3, 200, 80, False, "h_swish", 1),
    (3, 184, 80, False, "h_swish", 1),
    (3, 184, 80, False, "h_swish", 1),
    (3, 480, 112, True, "h_swish", 1),
    (3, 672, 112, True, "h_swish", 1),
    (5, 672, 160, True, "h_swish", 2),
    (5, 960, 160, True, "h_swish", 1),
    (5, 960, 160, True, "h_swish", 1),
)


def test_mobilenetv3_large_matches_torchvision_published_count() -> None:
    """MobileNetV3-Large 1.0 at 224 px built from the OFA kinds. torchvision publishes
    num_params = 5,483,032 and 0.217 GFLOPS (MACs) for ``mobilenet_v3_large``
    (MobileNet_V3_Large_Weights.IMAGENET1K_V1.meta). torchvision's feature-mix layer is a
    Linear *with* bias (1,280 more parameters); OFA's is a bias-free 1×1 conv."""
    ops = [OpSpec.make("mbv3_conv", (1, 3, 224, 224), out=16, kernel=3, stride=2)]
    cin, size = 16, 112
    for k, mid, out, se, act, stride in MBV3_LARGE:
        ops.append(
            OpSpec.make(
                "mbv3_block",
                (1, cin, size, size),
                out=out,
                kernel=k,
                mid=None if mid == cin else mid,
                stride=stride,
                act=act,
                se=se,
            )
        )
        cin, size = out, conv_out(size, stride)
    ops += [
        OpSpec.make("mbv3_conv", (1, 160, 7, 7), out=960),
        OpSpec.make("global_pool", (1, 960, 7, 7)),
        OpSpec.make("mbv3_feature_mix", (1, 960), out=1280),
        OpSpec.make("linear", (1, 1280), out=1000),
    ]
    macs, params = _macs_params(ops)
    assert params + 1280 == 5_483_032
    assert round(macs / 1e6) == 217


def test_make_divisible_matches_ofa_widths() -> None:
    assert [make_divisible(c * 1.2) for c in (16, 24, 40, 80, 112, 160, 960, 1280)] == [
        24,
        32,
        48,
        96,
        136,
        192,
        1152,
        1536,
    ]
    assert make_divisible(72 // 4) == 24 and make_divisible(120 // 4) == 32


def test_block_residual_se_and_bad_params() -> None:
    spec = OpSpec.make(
        "mbv3_block", (2, 24, 8, 8), out=24, mid=72, kernel=5, se=True, act="h_swish"
    )
    module = spec.build().eval()
    assert module.residual
    x = spec.example_inputs()[0]
    with torch.no_grad():
        assert module(x).shape == x.shape
    # SE of 72 mid channels: reduce 72 -> 24 (bias), expand 24 -> 72 (bias)
    se_params = 72 * 24 + 24 + 24 * 72 + 72
    plain = OpSpec.make("mbv3_block", (2, 24, 8, 8), out=24, mid=72, kernel=5, act="h_swish")
    assert spec.features()["params"] - plain.features()["params"] == se_params
    down = OpSpec.make("mbv3_block", (2, 24, 8, 8), out=32, mid=72, stride=2)
    assert not down.build().residual
    with pytest.raises(OpSpecError, match="act='gelu'"):
        OpSpec.make("mbv3_block", (1, 8, 4, 4), out=8, act="gelu").build()
    with pytest.raises(OpSpecError, match="kernel=4"):
        OpSpec.make("mbv3_conv", (1, 8, 4, 4), out=8, kernel=4).build()
