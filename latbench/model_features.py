"""Per-model features of a whole network, counted on the meta device (no weights, no compute).

One forward pass at batch 1 on ``torch.device("meta")`` under a ``TorchDispatchMode`` that sees
every aten op the eager model dispatches: calls and output elements per op group
(``OP_GROUPS``), and FLOPs per group from ``latbench.features.flop_counter``. ``activations`` is
fvcore's definition (timm's ``infer_macts``): elements written by convolutions and matmuls;
``output_elements`` counts every op's output; ``n_ops`` counts eager aten calls.

Not ``latbench.models``' torch.fx trace: ~0.5 s a model against 2-10 s, and aten names separate
convolutions, matmuls, attention and layout copies; FLOPs agree (resnet50 8.18 GFLOPs, ViT-B/16
35.13 in both). ``FeatureCache`` keeps features in a plain CSV.
"""

from __future__ import annotations

import csv
import io
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from latbench.atomic import write_atomically
from latbench.errors import LatbenchError
from latbench.features import flop_counter, numel
from latbench.model_loader import import_library


def _names(text: str, inplace: str = "") -> tuple[str, ...]:
    """The aten op names in ``text`` and ``inplace``, and the in-place ``relu_`` of ``inplace``."""
    return (*text.split(), *inplace.split(), *(f"{name}_" for name in inplace.split()))


OP_GROUPS: dict[str, tuple[str, ...]] = {
    "conv": _names("convolution conv1d conv2d conv3d _convolution conv_transpose2d"),
    "matmul": _names("mm addmm bmm baddbmm matmul linear einsum"),
    "norm": _names(
        "batch_norm native_batch_norm _native_batch_norm_legit_no_training layer_norm "
        "native_layer_norm group_norm native_group_norm rms_norm instance_norm"
    ),
    "activation": _names(
        "relu6 softplus glu erf",
        "relu gelu silu hardswish hardsigmoid sigmoid tanh leaky_relu elu mish hardtanh clamp",
    ),
    "elementwise": _names("rsub neg sqrt rsqrt pow exp where abs addcmul", "add mul div sub"),
    "pool": _names(
        "max_pool2d max_pool2d_with_indices avg_pool2d adaptive_avg_pool2d adaptive_max_pool2d "
        "_adaptive_avg_pool2d mean sum amax max avg_pool1d var_mean var std"
    ),
    "attention": _names(
        "softmax _softmax log_softmax scaled_dot_product_attention "
        "_scaled_dot_product_flash_attention _scaled_dot_product_efficient_attention "
        "_scaled_dot_product_flash_attention_for_cpu"
    ),
    "layout": _names(
        "permute transpose reshape view contiguous cat split chunk unbind flatten unsqueeze "
        "squeeze expand pad constant_pad_nd clone _unsafe_view roll select slice unflatten "
        "repeat narrow stack index gather t pixel_shuffle channel_shuffle upsample_nearest2d "
        "upsample_bilinear2d interpolate"
    ),
}
BATCHED_MATMUL = frozenset({"bmm", "baddbmm"})
"""Attention's QK^T and AV written out: their FLOPs count as ``flops_attention``."""
SDPA = frozenset(name for name in OP_GROUPS["attention"] if "scaled_dot_product" in name)
"""Fused attention: its score map (``q.shape[:-1]`` × keys) and output count as activations."""
GROUP_OF = {op: group for group, ops in OP_GROUPS.items() for op in ops}
GROUPS = (*OP_GROUPS, "other")
FREE = frozenset(
    _names(
        "dropout detach alias _to_copy to lift_fresh empty zeros ones arange full new_empty "
        "new_zeros size sym_size is_same_size stride dim"
    )
)
"""Ops that launch no kernel in inference or only allocate: not counted."""

FEATURES: tuple[str, ...] = (
    "flops",
    "params",
    "activations",
    "output_elements",
    "n_ops",
    *(f"n_{g}" for g in GROUPS),
    *(f"flops_{g}" for g in ("conv", "dwconv", "matmul", "attention")),
    "n_dwconv",
)
"""The columns of a feature row, all per image (batch 1) except ``params``; FLOPs count a
multiply-add as 2."""


class _OpCounter(TorchDispatchMode):
    """Counts every aten call by op group, and its output elements."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter = Counter()
        self.out: Counter = Counter()
        self.dwconv = 0
        self.dwconv_flops = 0.0
        self.attention_activations = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        result = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        if name in FREE:
            return result
        n = numel(result)
        group = GROUP_OF.get(name, "other")
        if name in SDPA:  # q (..., L, E), k (..., S, E), v (..., S, Ev)
            q, k, v = args[:3]
            self.attention_activations += math.prod(q.shape[:-1]) * (k.shape[-2] + v.shape[-1])
        if group == "conv" and _depthwise(name, args, kwargs or {}):
            self.dwconv += 1
            self.dwconv_flops += 2.0 * n * math.prod(args[1].shape[2:])
        self.calls[group] += 1
        self.out[group] += n
        return result


def _depthwise(name: str, args: tuple, kwargs: Mapping[str, Any]) -> bool:
    """A convolution whose groups equal its input channels (> 1)."""
    groups = kwargs.get("groups")
    if groups is None:
        # conv2d(input, weight, bias, stride, padding, dilation, groups);
        # convolution(input, weight, bias, stride, padding, dilation, transposed, out_pad, groups)
        pos = 8 if name in ("convolution", "_convolution") else 6
        groups = args[pos] if len(args) > pos else 1
    return int(groups) > 1 and int(groups) == int(args[0].shape[1])


def count_model(model: Any, input_shape: tuple[int, ...]) -> dict[str, float]:
    """``FEATURES`` of ``model`` (an ``nn.Module`` on the meta device) for one input of
    ``input_shape`` (batch 1: N x C x H x W). Raises whatever the model's forward raises."""
    model.eval()
    x = torch.empty(*input_shape, device="meta")
    flops, counter = flop_counter(), _OpCounter()
    with torch.inference_mode(), flops, counter:
        model(x)
    per_op = flops.get_flop_counts().get("Global", {})
    by_group: Counter = Counter()
    for op, n in per_op.items():
        name = op.__name__.split(".")[-1]
        by_group["attention" if name in BATCHED_MATMUL else GROUP_OF.get(name, "other")] += n
    return {
        "flops": float(flops.get_total_flops()),
        "params": float(sum(p.numel() for p in model.parameters())),
        "activations": float(
            counter.out["conv"] + counter.out["matmul"] + counter.attention_activations
        ),
        "output_elements": float(sum(counter.out[g] for g in GROUPS)),
        "n_ops": float(sum(counter.calls.values())),
        **{f"n_{g}": float(counter.calls[g]) for g in GROUPS},
        "flops_conv": float(by_group["conv"]),
        "flops_dwconv": counter.dwconv_flops,
        "flops_matmul": float(by_group["matmul"]),
        "flops_attention": float(by_group["attention"]),
        "n_dwconv": float(counter.dwconv),
    }


def timm_features(name: str, img_size: int, in_chans: int = 3) -> dict[str, float]:
    """``FEATURES`` of timm model ``name`` at ``img_size`` px (built on the meta device,
    random init, nothing downloaded). A model whose default config does not run at that size
    (fixed position embeddings) is rebuilt with ``img_size=``. Raises ``LatbenchError`` when
    timm does not know ``name`` or the model does not run at that size."""
    timm = import_library("timm")
    if not timm.is_model(name):
        raise LatbenchError(f"timm {timm.__version__} does not know model {name!r}")
    shape = (1, in_chans, img_size, img_size)
    errors = []
    for kwargs in ({}, {"img_size": img_size}):
        try:
            with torch.device("meta"):
                model = timm.create_model(name, pretrained=False, **kwargs)
            return count_model(model, shape)
        except Exception as exc:  # noqa: BLE001 - any failure of a third-party forward
            errors.append(
                f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
            )
    raise LatbenchError(
        f"timm model {name!r} does not run at {img_size} px on the meta device "
        f"({'; '.join(errors)})"
    )


FEATURES_VERSION = 2
"""Bumped when a feature's definition changes (2: ``activations`` counts fused attention's
score map and output), so that cached rows of the old definition are recomputed."""
CACHE_COLUMNS = ("model", "img_size", "library", *FEATURES)


class FeatureCache:
    """Features of (model, image size) pairs kept in a CSV file (``model``, ``img_size``,
    ``library``, ``FEATURES``), written atomically; rows of another library version or
    ``FEATURES_VERSION`` are recomputed."""

    def __init__(self, path: str | os.PathLike[str] | None, library: str):
        self.path = Path(path) if path is not None else None
        self.library = f"{library}; features v{FEATURES_VERSION}"
        self.rows: dict[tuple[str, int], dict[str, float]] = {}
        if self.path is not None and self.path.is_file():
            self._read()

    def _read(self) -> None:
        assert self.path is not None
        with self.path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in CACHE_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise LatbenchError(
                    f"{self.path}: feature cache lacks column(s) {', '.join(missing)}; delete it "
                    "to recompute"
                )
            for line, row in enumerate(reader, start=2):
                if row["library"] != self.library:
                    continue
                try:
                    self.rows[(row["model"], int(row["img_size"]))] = {
                        f: float(row[f]) for f in FEATURES
                    }
                except ValueError:
                    raise LatbenchError(
                        f"{self.path}: line {line}: a feature is not a number; delete the file "
                        "to recompute"
                    ) from None

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(CACHE_COLUMNS)
        for (model, size), values in sorted(self.rows.items()):
            writer.writerow(
                [model, size, self.library, *(repr(float(values[f])) for f in FEATURES)]
            )
        write_atomically(self.path, text.getvalue())


def features_of(
    pairs: Iterable[tuple[str, int]],
    cache: FeatureCache,
    compute: Callable[[str, int], dict[str, float]] = timm_features,
    progress: Callable[[int, int, float], None] | None = None,
    save_every: int = 50,
) -> tuple[dict[tuple[str, int], dict[str, float]], dict[tuple[str, int], str]]:
    """Features of every (model, image size) pair, from ``cache`` or computed (and the
    cache saved every ``save_every`` new ones); pairs that fail map to their error line."""
    pairs = list(dict.fromkeys((m, int(s)) for m, s in pairs))
    out, failed, new, t0 = {}, {}, 0, time.perf_counter()
    for i, pair in enumerate(pairs):
        if pair in cache.rows:
            out[pair] = cache.rows[pair]
            continue
        try:
            out[pair] = cache.rows[pair] = compute(*pair)
        except LatbenchError as exc:
            failed[pair] = str(exc)
            continue
        new += 1
        if new % save_every == 0:
            cache.save()
        if progress is not None:
            progress(i + 1, len(pairs), time.perf_counter() - t0)
    if new:
        cache.save()
    return out, failed
