"""Once-for-All MobileNetV3 (``ofa_mbv3_d234_e346_k357_w{1.0,1.2}``; Cai et al., ICLR 2020):
the supernet of ``ofa/imagenet_classification/elastic_nn/networks/ofa_mbv3.py``, its subnets
as ``Architecture`` chains, their encoding and sampler.

First conv (3×3/2, h-swish), a fixed expand-ratio-1 block, five stages of 2–4 inverted-residual
blocks (kernel 3/5/7, expand ratio 3/4/6), final expand 1×1, global pooling, feature mix,
classifier. Channels are ``make_divisible(base · width, 8)``; resolutions 128–224 in steps of 4.

Encoding, as OFA's ``sample_active_subnet`` returns it and as the shared HELP file stores it:
``ks`` and ``e`` hold 20 values, one per block slot (5 stages × 4 slots, stage-major); ``d``
the 5 stage depths; slot ``j`` of a stage is used only when ``j < d``. ``r`` is the input
resolution, ``w`` the width multiplier. The genotype string of an Architecture is the
canonical encoding, unused slots written as 0::

    ks=7-5-0-0-...;e=6-4-0-0-...;d=2-2-2-2-3;r=204;w=1.2
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from latbench.architecture import INPUT, Architecture, Edge, register_genotype
from latbench.errors import GenotypeError, LatbenchError
from latbench.ops.mobilenetv3 import make_divisible
from latbench.ops.params import as_int
from latbench.opspec import OpSpec
from latbench.spaces.registry import for_size, register_sampler, register_space

BASE_WIDTHS = (16, 16, 24, 40, 80, 112, 160, 960, 1280)  # stem, block 0, 5 stages, expand, mix
STRIDES = (2, 2, 2, 1, 2)  # first block of each of the five stages
ACTS = ("relu", "relu", "h_swish", "h_swish", "h_swish")
SE = (False, True, False, True, True)
KERNELS = (3, 5, 7)
EXPANDS = (3, 4, 6)
DEPTHS = (2, 3, 4)
MAX_DEPTH = 4
N_STAGES = 5
N_SLOTS = N_STAGES * MAX_DEPTH
SPACE = "ofa-mbv3"
RESOLUTIONS = tuple(range(128, 225, 4))
WIDTHS = (1.0, 1.2)
N_CLASSES = 1000


@dataclass(frozen=True)
class Widths:
    """Channel counts of one width multiplier."""

    stem: int
    block0: int
    stages: tuple[int, ...]
    final_expand: int
    feature_mix: int


def widths(width: float) -> Widths:
    """OFA's channels for ``width``: every base width through ``make_divisible(c · w, 8)``."""
    if width not in WIDTHS:
        raise LatbenchError(
            f"ofa-mbv3: width {width!r} is not one of {', '.join(map(str, WIDTHS))}"
        )
    c = [make_divisible(b * width) for b in BASE_WIDTHS]
    return Widths(c[0], c[1], tuple(c[2:7]), c[7], c[8])


def conv_out(size: int, stride: int) -> int:
    """Spatial size after a 'same'-padded odd-kernel conv of ``stride``."""
    return (size - 1) // stride + 1


def stage_sizes(resolution: int) -> list[int]:
    """Input spatial size of each stage's first block (after the stride-2 first conv)."""
    size, sizes = conv_out(resolution, 2), []
    for stride in STRIDES:
        sizes.append(size)
        size = conv_out(size, stride)
    return sizes


def _block(
    cin: int, cout: int, size: int, batch: int, stage: int, first: bool, kernel: int, expand: int
) -> OpSpec:
    """One inverted-residual block of ``stage`` (0-based) at ``size``² input."""
    return OpSpec.make(
        "mbv3_block",
        (batch, cin, size, size),
        out=cout,
        mid=make_divisible(round(cin * expand)),
        kernel=kernel,
        stride=STRIDES[stage] if first else 1,
        act=ACTS[stage],
        se=SE[stage],
    )


@dataclass(frozen=True)
class SizeConfig:
    """The grid one size of the space covers."""

    resolutions: tuple[int, ...]
    batches: tuple[int, ...]
    widths: tuple[float, ...]
    kernels: tuple[int, ...] = KERNELS
    expands: tuple[int, ...] = EXPANDS


# ``small``: batch 1 at 128 px, width 1.2, kernels 3/7 and expand ratios 3/6 (46 ops, seconds
# on one core); its sampler draws from the same choices. ``paper``: the whole supernet.
CONFIGS = {
    "small": SizeConfig((128,), (1,), (1.2,), kernels=(3, 7), expands=(3, 6)),
    "paper": SizeConfig(RESOLUTIONS, (1, 32, 64), WIDTHS),
}


@register_space(SPACE, paper="Once-for-All (Cai et al., ICLR 2020)")
def ofa_mbv3_ops(size: str) -> list[OpSpec]:
    """OFA MobileNetV3 supernet (k 3/5/7, e 3/4/6, d 2-4) at its resolutions and widths: per
    width, batch and resolution, the stem, every block choice of every stage, the head."""
    c = for_size(SPACE, size, CONFIGS)
    ops: list[OpSpec] = []
    for width, batch, r in itertools.product(c.widths, c.batches, c.resolutions):
        w = widths(width)
        ends = subnet_ops([0] * N_SLOTS, [0] * N_SLOTS, [0] * N_STAGES, r, width, batch)
        ops += ends[:2]
        for stage, (side, cin) in enumerate(zip(stage_sizes(r), (w.block0, *w.stages))):
            cout, after = w.stages[stage], conv_out(side, STRIDES[stage])
            for k, e in itertools.product(c.kernels, c.expands):
                ops.append(_block(cin, cout, side, batch, stage, True, k, e))
                ops.append(_block(cout, cout, after, batch, stage, False, k, e))
        ops += ends[2:]
    return ops


DEFAULT_WIDTH = 1.2  # the width the HELP measurements support (docs/ofa.md, bench/ofa_width.py)


class OfaEncodingError(GenotypeError):
    """An OFA encoding that is malformed or outside the space; ``field`` names the part
    (ks, e, d, r or w) that is wrong."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class OfaConfig:
    """One subnet: per-slot kernels ``ks`` and expand ratios ``e`` (20 each), stage depths
    ``d`` (5), resolution ``r`` (px) and width multiplier ``w``."""

    ks: tuple[int, ...]
    e: tuple[int, ...]
    d: tuple[int, ...]
    r: int
    w: float = DEFAULT_WIDTH

    def __post_init__(self) -> None:
        for name, values, n, valid in (
            ("ks", self.ks, N_SLOTS, KERNELS),
            ("e", self.e, N_SLOTS, EXPANDS),
            ("d", self.d, N_STAGES, DEPTHS),
        ):
            allowed = set(valid) if name == "d" else {0, *valid}  # 0: an unused slot
            if len(values) != n or any(v not in allowed for v in values):
                raise OfaEncodingError(
                    name,
                    f"ofa-mbv3: {name} must hold {n} values from "
                    f"{', '.join(map(str, valid))}; got {'-'.join(map(str, values))}",
                )
        if self.r not in RESOLUTIONS:
            raise OfaEncodingError("r", f"ofa-mbv3: r={self.r!r} is not in 128..224 step 4")
        if self.w not in WIDTHS:
            raise OfaEncodingError("w", f"ofa-mbv3: w={self.w!r} is not one of 1.0, 1.2")
        for slot in self.active_slots():
            if self.ks[slot] == 0 or self.e[slot] == 0:
                raise OfaEncodingError(
                    "ks",
                    f"ofa-mbv3: slot {slot} is used (stage depth "
                    f"{self.d[slot // MAX_DEPTH]}) but ks/e is 0",
                )

    def active_slots(self) -> list[int]:
        """Indices (0..19) of the block slots this subnet uses."""
        return [s * MAX_DEPTH + j for s, depth in enumerate(self.d) for j in range(depth)]

    def canonical(self) -> OfaConfig:
        """The same subnet with unused slots set to 0 (two encodings of one network agree)."""
        used = set(self.active_slots())
        ks = tuple(k if i in used else 0 for i, k in enumerate(self.ks))
        e = tuple(x if i in used else 0 for i, x in enumerate(self.e))
        return OfaConfig(ks, e, self.d, self.r, self.w)

    def to_string(self) -> str:
        c = self.canonical()
        ks, e, d = ("-".join(map(str, v)) for v in (c.ks, c.e, c.d))
        return f"ks={ks};e={e};d={d};r={c.r};w={c.w:g}"


def _ints(name: str, text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in str(text).strip().split("-"))
    except ValueError:
        raise OfaEncodingError(
            name, f"ofa-mbv3: {name}={text!r} is not '-'-joined integers"
        ) from None


def config_from_columns(ks: str, e: str, d: str, r: object, w: float = DEFAULT_WIDTH) -> OfaConfig:
    """An OfaConfig from the shared file's columns (``7-5-...`` strings and an int ``r``)."""
    try:
        resolution = as_int(float(str(r)))
    except ValueError:
        raise OfaEncodingError(
            "r", f"ofa-mbv3: r={r!r} is not an integer resolution (pixels >= 1)"
        ) from None
    return OfaConfig(_ints("ks", ks), _ints("e", e), _ints("d", d), resolution, float(w))


def parse_genotype(text: str) -> OfaConfig:
    """Inverse of ``OfaConfig.to_string``: ``ks=...;e=...;d=...;r=...;w=...`` (w optional)."""
    fields = dict(part.partition("=")[::2] for part in text.strip().split(";") if part)
    missing = [k for k in ("ks", "e", "d", "r") if k not in fields]
    if missing:
        raise OfaEncodingError(
            missing[0],
            f"ofa-mbv3: genotype {text!r} lacks {', '.join(missing)}; "
            "expected ks=..;e=..;d=..;r=..;w=..",
        )
    try:
        width = float(fields.get("w", DEFAULT_WIDTH))
    except ValueError:
        raise OfaEncodingError("w", f"ofa-mbv3: w={fields['w']!r} is not a number") from None
    return config_from_columns(fields["ks"], fields["e"], fields["d"], fields["r"], width)


def subnet_ops(
    ks: Sequence[int], e: Sequence[int], d: Sequence[int], r: int, w: float, batch: int = 1
) -> list[OpSpec]:
    """The subnet's ops in order (stem, active blocks, head); ``r`` is not range-checked, so
    OFA's published subnets at other resolutions (e.g. 236 px) can be built too."""
    c = widths(w)
    size = conv_out(r, 2)
    ops = [
        OpSpec.make("mbv3_conv", (batch, 3, r, r), out=c.stem, kernel=3, stride=2, act="h_swish"),
        OpSpec.make("mbv3_block", (batch, c.stem, size, size), out=c.block0, kernel=3, act="relu"),
    ]
    cin = c.block0
    for stage, (size, cout) in enumerate(zip(stage_sizes(r), c.stages)):
        for j in range(d[stage]):
            slot = stage * MAX_DEPTH + j
            in_size = size if j == 0 else conv_out(size, STRIDES[stage])
            ops.append(_block(cin, cout, in_size, batch, stage, j == 0, ks[slot], e[slot]))
            cin = cout
    size = conv_out(size, STRIDES[-1])
    return ops + [
        OpSpec.make("mbv3_conv", (batch, cout, size, size), out=c.final_expand, act="h_swish"),
        OpSpec.make("global_pool", (batch, c.final_expand, size, size)),
        OpSpec.make("mbv3_feature_mix", (batch, c.final_expand), out=c.feature_mix),
        OpSpec.make("linear", (batch, c.feature_mix), out=N_CLASSES),
    ]


def build_network(config: OfaConfig, batch: int = 1) -> Architecture:
    """The subnet as a chain of OpSpecs (stem, active blocks, head)."""
    ops = subnet_ops(config.ks, config.e, config.d, config.r, config.w, batch)
    names = [INPUT] + [f"n{i}" for i in range(1, len(ops) + 1)]
    edges = tuple(Edge((names[i],), names[i + 1], op) for i, op in enumerate(ops))
    return Architecture(SPACE, edges, names[-1], genotype=config.to_string(), meta={"batch": batch})


ROW_COLUMNS = ("ks", "e", "d", "r")
"""Columns of an OFA-format table row (HELP's ``ofa_archs``; the shared CSV)."""


@register_genotype(SPACE)
def from_genotype(genotype: str, meta: Mapping[str, Any]) -> Architecture:
    """The subnet of a genotype string (``OfaConfig.to_string``) at ``meta["batch"]``
    (default 1): what a compact architecture JSON is rebuilt from."""
    given = meta.get("batch", 1)
    try:
        batch = as_int(given)
    except ValueError:
        raise OfaEncodingError(
            "batch", f"ofa-mbv3: batch={given!r} is not an integer >= 1"
        ) from None
    return build_network(parse_genotype(genotype), batch)


def config_of(arch: Architecture) -> OfaConfig:
    """The canonical encoding of an ofa-mbv3 Architecture, read back from its OpSpecs."""
    if arch.space != SPACE:
        raise OfaEncodingError(
            "space", f"architecture of space {arch.space!r} is not an {SPACE} subnet"
        )
    stem = arch.edges[0].op
    width = next((x for x in WIDTHS if widths(x).stem == stem.p.get("out")), None)
    if stem.kind != "mbv3_conv" or width is None:
        raise OfaEncodingError("w", f"{SPACE}: first op {stem.key} is not an OFA first conv")
    stage_of = {c: s for s, c in enumerate(widths(width).stages)}
    ks, e, depth = [0] * N_SLOTS, [0] * N_SLOTS, [0] * N_STAGES
    for op in arch.ops()[2:]:
        if op.kind != "mbv3_block":
            continue
        stage = stage_of[op.p["out"]]
        slot = stage * MAX_DEPTH + depth[stage]
        ks[slot], e[slot] = op.p["kernel"], op.p["mid"] // op.input_shape[1]
        depth[stage] += 1
    return OfaConfig(tuple(ks), tuple(e), tuple(depth), stem.input_shape[2], width)


def sample_config(
    rng: np.random.Generator, size: str = "paper", width: float = DEFAULT_WIDTH
) -> OfaConfig:
    """A uniform subnet of ``size``'s choices, drawn as OFA's ``sample_active_subnet`` draws
    it (every slot drawn, unused ones then zeroed)."""
    c = CONFIGS[size]
    ks = tuple(int(k) for k in rng.choice(c.kernels, N_SLOTS))
    e = tuple(int(x) for x in rng.choice(c.expands, N_SLOTS))
    d = tuple(int(x) for x in rng.choice(DEPTHS, N_STAGES))
    return OfaConfig(ks, e, d, int(rng.choice(c.resolutions)), width).canonical()


@register_sampler(SPACE)
def sample(size: str, rng: np.random.Generator) -> Architecture:
    """A subnet of the default width from the choices of ``size`` (see ``CONFIGS``)."""
    return build_network(sample_config(rng, size))
