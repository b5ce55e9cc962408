"""ST-NAS encoder: the Swin backbone whose every block is one searchable unit with latency s_i.

ST-NAS (Sect. 3.2, 4) shrinks the depth of each stage of Swin-T (depths 2,2,6,2; Swin-B,
2,2,18,2, is the baseline) on 576×320 RGB frames, one frame at a time. Every block (window 7,
the odd ones shifted) is one unit s_i of Eq. 2. Small size: Swin-T's structure at 112×64 frames,
embed dim 32, heads 1,2,4,8 (maps smaller than a window use one unshifted window, as Swin does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.spaces.registry import for_size, register_layout, register_space

SPACE = "stnas-encoder"
WINDOW = 7
PATCH = 4


@dataclass(frozen=True)
class Variant:
    embed: int
    depths: tuple[int, ...]
    heads: tuple[int, ...]


VARIANTS = {
    "swin-t": Variant(96, (2, 2, 6, 2), (3, 6, 12, 24)),
    "swin-b": Variant(128, (2, 2, 18, 2), (4, 8, 16, 32)),
    "swin-t-small": Variant(32, (2, 2, 6, 2), (1, 2, 4, 8)),
}
FRAME_HW = {"paper": (320, 576), "small": (64, 112)}  # (height, width)
_VARIANTS_BY_SIZE = {"paper": ("swin-t", "swin-b"), "small": ("swin-t-small",)}
BATCH = 1  # frames are encoded one at a time


def variants(size: str) -> tuple[str, ...]:
    """The Swin variants profiled at ``size`` (the first is the default)."""
    return for_size(SPACE, size, _VARIANTS_BY_SIZE)


def _variant(size: str, variant: str | None) -> Variant:
    names = variants(size)
    name = names[0] if variant is None else variant
    if name not in names:
        raise LatbenchError(
            f"unknown variant {name!r} of space {SPACE!r} at size {size!r}; "
            f"valid: {', '.join(names)}"
        )
    return VARIANTS[name]


def stage_shapes(size: str, variant: str | None = None) -> list[tuple[int, int, int]]:
    """(H, W, C) of the tokens of each stage: H/4·2^-s, W/4·2^-s, embed·2^s (ceil on odd)."""
    var = _variant(size, variant)
    h, w = (-(-x // PATCH) for x in FRAME_HW[size])
    shapes = []
    for stage in range(len(var.depths)):
        shapes.append((h, w, var.embed * 2**stage))
        h, w = -(-h // 2), -(-w // 2)
    return shapes


def stem_op(size: str, variant: str | None = None) -> OpSpec:
    """Patch embedding of one RGB frame (N,3,H,W -> N,H/4,W/4,C)."""
    var = _variant(size, variant)
    return OpSpec.make("patch_embed", (BATCH, 3, *FRAME_HW[size]), out=var.embed, patch=PATCH)


def stage_blocks(stage: int, size: str, variant: str | None = None) -> list[OpSpec]:
    """The blocks of ``stage`` in order: W-MSA, SW-MSA, W-MSA, ... (one unit s_i each)."""
    var = _variant(size, variant)
    h, w, c = stage_shapes(size, variant)[stage]
    return [
        OpSpec.make(
            "swin_block", (BATCH, h, w, c), heads=var.heads[stage], window=WINDOW, shift=bool(i % 2)
        )
        for i in range(var.depths[stage])
    ]


def merge_ops(size: str, variant: str | None = None) -> list[OpSpec]:
    """Patch merging from each stage to the next."""
    return [OpSpec.make("patch_merging", (BATCH, *t)) for t in stage_shapes(size, variant)[:-1]]


def check_depths(
    size: str, depths: Sequence[int] | None, variant: str | None = None
) -> tuple[int, ...]:
    """``depths``, blocks kept per stage, as a tuple; the variant's full depths when None.
    ``LatbenchError`` unless it gives each stage a whole number from 1 to its full depth."""
    full = _variant(size, variant).depths
    if depths is None:
        return full
    kept = tuple(depths)
    if len(kept) != len(full) or not all(
        type(d) is int and 1 <= d <= f for d, f in zip(kept, full)
    ):
        raise LatbenchError(
            f"{SPACE} ({size}): encoder depths {','.join(map(str, kept)) or '(none)'}: need one "
            f"per stage ({len(full)} stages), each from 1 to the stage's full depth "
            f"({','.join(map(str, full))})"
        )
    return kept


def encoder_ops(
    size: str, variant: str | None = None, depths: Sequence[int] | None = None
) -> list[OpSpec]:
    """The whole encoder of one frame, in execution order (with repeats), ending in the
    LayerNorm on the last stage's tokens (the features f_t given to the decoder). ``depths``
    (``check_depths``; default full): the first blocks of each stage kept, as the ST-NAS
    shrink rule drops blocks from a stage's end; patch embedding and merging stay."""
    shapes, merges = stage_shapes(size, variant), merge_ops(size, variant)
    kept = check_depths(size, depths, variant)
    ops = [stem_op(size, variant)]
    for stage in range(len(shapes)):
        ops += stage_blocks(stage, size, variant)[: kept[stage]] + merges[stage : stage + 1]
    return ops + [OpSpec.make("layer_norm", (BATCH, *shapes[-1]))]


@register_space(SPACE, paper="ST-NAS (spatial-temporal NAS for surgical video), encoder")
def stnas_encoder_ops(size: str) -> list[OpSpec]:
    """Swin-T (and Swin-B) blocks, patch embedding/merging and output norm at 576×320 frames."""
    return [op for variant in variants(size) for op in encoder_ops(size, variant)]


@dataclass(frozen=True)
class EncoderLayout:
    """The default variant's blocks per stage, and the op run before each stage (patch
    embedding, then patch merging): the unit s_i of the ST-NAS depth search is one block."""

    stages: tuple[tuple[OpSpec, ...], ...]
    between: tuple[OpSpec, ...]


@register_layout(SPACE)
def layout(size: str) -> EncoderLayout:
    stages = tuple(tuple(stage_blocks(s, size)) for s in range(len(stage_shapes(size))))
    return EncoderLayout(stages, (stem_op(size), *merge_ops(size)))
