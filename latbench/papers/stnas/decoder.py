"""ST-NAS decoder: the temporal (SP-TCN) decoder turned into a DARTS-style supernet.

Input: the encoder features of an 11-frame window stacked as N,C,T,H,W: Swin-T's last stage,
768 channels at 1/32 of 576×320 (10×18). Each searchable layer holds 7 candidates (Sect. 3.3,
``OP_NAMES``). Fixed ops (``fixed_ops``): the initial 3×3×3 conv, the baseline's channel-reducing
3D conv (removed by ST-NAS' "full channel" change), the 1×1×1 classifier and the ×32 bilinear
up-sampling of a frame's scores.

Assumptions (the paper does not state them): the searched decoder runs at full channels (as
TCNNAS was searched); its layers use dilation 2^i (MS-TCN style), two supernet layers per 3D
conv; convs are conv-BN-ReLU; the reducing conv is 3×3×3; CholecSeg8K's 13 classes.

A network (Sect. 3.3, Fig. 2b): the initial conv, one candidate per searched layer, and the
classifier; the ×32 up-sampling of one frame of the window is left out (no op kind selects a
frame): its cost is a constant to add. Genotype: the layers' op names, comma-separated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latbench.architecture import INPUT, Architecture
from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.papers.chain import Chain
from latbench.spaces.registry import for_size, register_layout, register_sampler, register_space

SPACE = "stnas-decoder"
FRAMES = 11  # temporal window
KERNELS = (3, 5)
OP_NAMES = (
    "spatial_conv_3x3",
    "spatial_conv_5x5",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "temporal_conv_3",
    "temporal_conv_5",
    "skip_connect",
)
"""NAS-Bench-201 / DARTS style names: k×k spatial convs (dilated), k×k depth-separable
spatial convs, length-k dilated temporal convs, and identity as ``skip_connect``."""
N_CLASSES = 13  # CholecSeg8K
STRIDE = 32  # encoder output stride (Swin's last stage)
LAYERS_PER_CONV = 2  # each 3D conv of SP-TCN becomes two supernet layers
BATCH = 1


@dataclass(frozen=True)
class Config:
    channels: int  # full channels entering the decoder
    reduced: int  # channels after the baseline's reducing conv
    hw: tuple[int, int]  # feature map (H, W) at 1/32
    dilations: tuple[int, ...]


CONFIGS = {
    "paper": Config(768, 256, (10, 18), (1, 2, 4, 8)),
    "small": Config(64, 32, (4, 7), (1, 2)),
}


def _shape(size: str, channels: int | None = None) -> tuple[int, ...]:
    cfg = for_size(SPACE, size, CONFIGS)
    return (BATCH, cfg.channels if channels is None else channels, FRAMES, *cfg.hw)


def layer_dilations(size: str) -> list[int]:
    """The dilation of each supernet layer, in order (two layers per dilated 3D conv)."""
    cfg = for_size(SPACE, size, CONFIGS)
    return [d for d in cfg.dilations for _ in range(LAYERS_PER_CONV)]


def layer_ops(dilation: int, size: str) -> dict[str, OpSpec]:
    """The 7 candidate ops of a supernet layer with ``dilation``, by name (see OP_NAMES)."""
    shape = _shape(size)
    bn = dict(norm="bn", act="relu")
    ops: dict[str, OpSpec] = {}
    for k in KERNELS:
        ops[f"spatial_conv_{k}x{k}"] = OpSpec.make(
            "conv", shape, kernel=(1, k, k), dilation=(1, dilation, dilation), **bn
        )
        ops[f"sep_conv_{k}x{k}"] = OpSpec.make("sepconv", shape, kernel=(1, k, k), **bn)
        ops[f"temporal_conv_{k}"] = OpSpec.make(
            "conv", shape, kernel=(k, 1, 1), dilation=(dilation, 1, 1), **bn
        )
    ops["skip_connect"] = OpSpec.make("identity", shape)
    return {name: ops[name] for name in OP_NAMES}


def fixed_ops(size: str) -> dict[str, OpSpec]:
    """The non-searchable decoder ops, by name."""
    cfg = for_size(SPACE, size, CONFIGS)
    bn = dict(norm="bn", act="relu")
    h, w = cfg.hw
    return {
        "reduce": OpSpec.make("conv", _shape(size), out=cfg.reduced, kernel=3, **bn),
        "initial": OpSpec.make("conv", _shape(size), kernel=3, **bn),
        "initial_reduced": OpSpec.make("conv", _shape(size, cfg.reduced), kernel=3, **bn),
        "classifier": OpSpec.make("conv", _shape(size), out=N_CLASSES, kernel=1, bias=True),
        "upsample": OpSpec.make("upsample", (BATCH, N_CLASSES, h, w), scale=STRIDE),
    }


@register_space(SPACE, paper="ST-NAS (spatial-temporal NAS for surgical video), decoder")
def stnas_decoder_ops(size: str) -> list[OpSpec]:
    """The 7 candidates of every decoder layer, plus initial, reducing and classifier convs."""
    ops = list(fixed_ops(size).values())
    for dilation in dict.fromkeys(layer_dilations(size)):
        ops += layer_ops(dilation, size).values()
    return ops


@dataclass(frozen=True)
class DecoderLayout:
    """Per supernet layer (in order), its candidates by name (``OP_NAMES`` order)."""

    layers: tuple[dict[str, OpSpec], ...]

    @property
    def op_names(self) -> tuple[str, ...]:
        return OP_NAMES


@register_layout(SPACE)
def layout(size: str) -> DecoderLayout:
    return DecoderLayout(tuple(layer_ops(d, size) for d in layer_dilations(size)))


def build_network(choice: tuple[str, ...], size: str = "small") -> Architecture:
    """The decoder whose layer ``i`` runs candidate ``choice[i]`` (one name per layer)."""
    dilations = layer_dilations(size)
    if len(choice) != len(dilations) or any(c not in OP_NAMES for c in choice):
        raise LatbenchError(
            f"stnas-decoder ({size}): choice {choice!r} must name one of "
            f"{', '.join(OP_NAMES)} for each of its {len(dilations)} layers"
        )
    fixed, g = fixed_ops(size), Chain()
    layers = [layer_ops(d, size)[name] for d, name in zip(dilations, choice)]
    out = g.add(INPUT, [fixed["initial"], *layers, fixed["classifier"]])
    return Architecture(SPACE, tuple(g.edges), out, genotype=",".join(choice), meta={"size": size})


@register_sampler(SPACE)
def sample(size: str, rng: np.random.Generator) -> Architecture:
    """Each layer's op uniformly among the 7 candidates."""
    n = len(layer_dilations(size))
    return build_network(tuple(str(OP_NAMES[i]) for i in rng.integers(0, len(OP_NAMES), n)), size)
