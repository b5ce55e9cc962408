"""OFA MobileNetV3 encoding <-> Architecture, sampler and the space's shapes."""

from __future__ import annotations

import numpy as np
import pytest

from latbench.archs import Architecture, sample_architectures
from latbench.archs.ofa_mbv3 import (
    RESOLUTIONS,
    OfaConfig,
    OfaEncodingError,
    build_network,
    config_from_columns,
    config_of,
    parse_genotype,
    sample_config,
    stage_sizes,
    widths,
)
from latbench.spaces import get_space

ROW = (
    "7-5-5-5-7-7-5-7-5-7-3-7-5-3-7-3-5-3-5-3",
    "6-4-4-6-6-3-4-3-3-6-3-3-3-6-3-4-6-4-3-6",
    "2-2-2-2-3",
    204,
)  # sample 0 of the shared HELP file


def test_round_trip_encoding_architecture_string() -> None:
    config = config_from_columns(*ROW)
    arch = build_network(config)
    assert config_of(arch) == config.canonical()
    assert parse_genotype(arch.genotype) == config.canonical()
    assert Architecture.from_json(arch.to_json()) == arch
    assert arch.genotype.startswith("ks=7-5-0-0-7-7-0-0-") and arch.genotype.endswith(
        "d=2-2-2-2-3;r=204;w=1.2"
    )
    # 2 stem ops + 11 blocks + 4 head ops
    assert len(arch.edges) == 2 + sum(config.d) + 4


@pytest.mark.parametrize("width", [1.0, 1.2])
def test_random_configs_round_trip(width: float) -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        config = sample_config(rng, "paper", width)
        arch = build_network(config, batch=32)
        assert config_of(arch) == config
        assert arch.input_shape == (32, 3, config.r, config.r)


def test_shapes_chain_and_widths() -> None:
    arch = build_network(OfaConfig((7,) * 20, (6,) * 20, (4,) * 5, 224, 1.0))
    for prev, nxt in zip(arch.edges, arch.edges[1:]):
        if nxt.op.kind in ("mbv3_block", "mbv3_conv"):
            assert nxt.op.input_shape[1:2] == (prev.op.p.get("out", prev.op.input_shape[1]),)
    assert stage_sizes(224) == [112, 56, 28, 14, 14]
    assert stage_sizes(132) == [66, 33, 17, 9, 9]
    assert widths(1.2).stages == (32, 48, 96, 136, 192)
    assert widths(1.0).final_expand == 960 and widths(1.0).feature_mix == 1280


def test_bad_encodings_name_the_field() -> None:
    with pytest.raises(OfaEncodingError, match="ks must hold 20"):
        config_from_columns("7-5", *ROW[1:])
    with pytest.raises(OfaEncodingError, match="r=230"):
        config_from_columns(*ROW[:3], 230)
    with pytest.raises(OfaEncodingError, match="'x-3'"):
        config_from_columns(ROW[0], "x-3", *ROW[2:])
    with pytest.raises(OfaEncodingError, match="lacks d, r"):
        parse_genotype("ks=3;e=3")
    with pytest.raises(OfaEncodingError, match="slot 0 is used"):
        OfaConfig((0,) * 20, (3,) * 20, (2,) * 5, 128)


def test_paper_space_covers_every_sampled_network_at_every_batch() -> None:
    listed = set(get_space("ofa-mbv3").ops("paper"))
    rng = np.random.default_rng(0)
    for batch in (1, 32, 64):
        for width in (1.0, 1.2):
            arch = build_network(sample_config(rng, "paper", width), batch)
            assert not [op.key for op in arch.ops() if op not in listed]
    assert len(RESOLUTIONS) == 25 and RESOLUTIONS[0] == 128 and RESOLUTIONS[-1] == 224


def test_small_sampler_uses_small_choices() -> None:
    for arch in sample_architectures("ofa-mbv3", 5, "small", seed=2):
        config = config_of(arch)
        assert config.r == 128 and set(config.ks) <= {0, 3, 7} and set(config.e) <= {0, 3, 6}
