"""A toy search space for latbench: two op kinds, three slots (docs/plugins.md)."""

from torch import nn

from latbench.ops import params as P
from latbench.plugins import (
    ChoiceLayout,
    OpSpec,
    register_layout,
    register_op,
    register_sampler,
    register_space,
)

SHAPES = {"small": (1, 8, 16, 16), "paper": (1, 32, 64, 64)}  # N, C, H, W per size


@register_op("toy_conv", defaults={"kernel": 3}, ranks=(4,), params={"kernel": P.odd()})
def toy_conv(spec: OpSpec) -> nn.Module:
    """k×k convolution and ReLU, channels kept."""
    c, k = spec.input_shape[1], spec.p["kernel"]
    return nn.Sequential(nn.Conv2d(c, c, k, padding=k // 2), nn.ReLU())


@register_op("toy_mlp", defaults={"expand": 2}, ranks=(4,), params={"expand": P.integer(1, 8)})
def toy_mlp(spec: OpSpec) -> nn.Module:
    """Channel MLP: 1×1 convolution to expand × channels, GELU, 1×1 back."""
    c, e = spec.input_shape[1], spec.p["expand"]
    return nn.Sequential(nn.Conv2d(c, e * c, 1), nn.GELU(), nn.Conv2d(e * c, c, 1))


@register_space("toy", paper="toy example (docs/plugins.md)")
def toy_ops(size: str) -> list[OpSpec]:
    """Every candidate of every slot."""
    return toy_layout(size).ops()


@register_layout("toy")
def toy_layout(size: str) -> ChoiceLayout:
    x = SHAPES[size]
    slot = {
        "conv3": OpSpec.make("toy_conv", x, kernel=3),
        "conv5": OpSpec.make("toy_conv", x, kernel=5),
        "mlp4": OpSpec.make("toy_mlp", x, expand=4),
    }
    return ChoiceLayout.of([slot, slot, slot])


@register_sampler("toy")  # optional: for `measure-nets toy`, `validate toy:SEED`
def toy_sample(size, rng):
    return toy_layout(size).sample("toy", rng)
