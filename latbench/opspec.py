"""``OpSpec``: one candidate operation at one input, the one key of latbench (catalogue,
profiler, tables, predictors and searches)."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from latbench.errors import LatbenchError, OpSpecError
from latbench.features import op_features
from latbench.jsonio import loads
from latbench.ops.params import check_shape
from latbench.ops.registry import get_op_kind

DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}
MODES = ("infer", "train")
InputSpec = tuple[tuple[int, ...], str, tuple[int, ...] | None]
"""One input of an op: shape, dtype name, strides (None: contiguous)."""


def _freeze(value: Any) -> Any:
    """Lists become tuples so that params stay hashable and keys stay stable."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    raise OpSpecError(f"parameter value {value!r} is not a number, string, bool or tuple")


@dataclass(frozen=True)
class OpSpec:
    """One operation of kind ``kind`` applied to input(s) of ``input_shape``; frozen, hashable.

    ``params``: the kind's hyper-parameters as sorted ``(name, value)`` pairs. Build with
    ``OpSpec.make`` (or ``from_key``), which validates them and fills defaults, so two specs
    that build the same module have the same key.
    """

    kind: str
    input_shape: tuple[int, ...]
    params: tuple[tuple[str, Any], ...] = ()
    dtype: str = "float32"
    mode: str = "infer"

    @classmethod
    def make(
        cls,
        kind: str,
        input_shape: tuple[int, ...] | list[int],
        *,
        dtype: str = "float32",
        mode: str = "infer",
        **params: Any,
    ) -> OpSpec:
        """Validated constructor: checks kind, shape, dtype and mode, fills parameter defaults."""
        op = get_op_kind(kind)
        if dtype not in DTYPES:
            raise OpSpecError(f"{kind}: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        if mode not in MODES:
            raise OpSpecError(f"{kind}: mode {mode!r} is not one of {', '.join(MODES)}")
        try:
            shape = check_shape(kind, input_shape, op.ranks)
        except (ValueError, TypeError) as exc:
            raise OpSpecError(
                f"{kind}: input shape {tuple(input_shape)!r}; expected positive "
                f"integer sizes, {exc}"
            ) from None
        merged = op.resolve_params({k: _freeze(v) for k, v in params.items()}, shape)
        frozen = tuple(sorted((k, _freeze(v)) for k, v in merged.items()))
        return cls(kind=kind, input_shape=shape, params=frozen, dtype=dtype, mode=mode)

    @functools.cached_property
    def key(self) -> str:
        """Stable text key: ``kind|k=v;k=v|NxCxHxW|dtype|mode`` with JSON values."""
        params = ";".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in self.params)
        shape = "x".join(map(str, self.input_shape))
        return "|".join((self.kind, params, shape, self.dtype, self.mode))

    @property
    def params_json(self) -> str:
        """The parameters as one JSON object: a table's ``op_params`` column."""
        return json.dumps(dict(self.params))

    @classmethod
    @functools.lru_cache(maxsize=65536)
    def from_key(cls, key: str) -> OpSpec:
        """Parse a key written by ``key`` (cached: tables repeat keys); raises ``OpSpecError``
        naming the bad part."""
        parts = key.split("|")
        if len(parts) != 5:
            raise OpSpecError(
                f"malformed OpSpec key {key[:200]!r}: expected 5 '|'-separated parts "
                "kind|params|shape|dtype|mode"
            )
        kind, params_txt, shape_txt, dtype, mode = parts
        params: dict[str, Any] = {}
        for item in filter(None, params_txt.split(";")):
            name, sep, value = item.partition("=")
            if not sep:
                raise OpSpecError(f"malformed parameter {item[:100]!r} in OpSpec key {key[:200]!r}")
            try:
                params[name] = loads(value, f"value of {name!r}")
            except LatbenchError as exc:
                raise OpSpecError(
                    f"bad value for {name!r} in OpSpec key {key[:200]!r}: {exc}"
                ) from None
        try:
            shape = tuple(int(s) for s in shape_txt.split("x") if len(s) <= 20)
            if len(shape) != len(shape_txt.split("x")):
                raise ValueError(shape_txt)
        except ValueError:
            raise OpSpecError(
                f"bad shape {shape_txt[:100]!r} in OpSpec key {key[:200]!r}; "
                "expected sizes like 1x16x32x32"
            ) from None
        return cls.make(kind, shape, dtype=dtype, mode=mode, **params)

    def __str__(self) -> str:
        return self.key

    @property
    def p(self) -> Mapping[str, Any]:
        """The hyper-parameters as a read-only mapping."""
        return dict(self.params)

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    @property
    def n_inputs(self) -> int:
        return len(self.input_specs())

    def input_specs(self) -> tuple[InputSpec, ...]:
        """(shape, dtype name, strides) of every input: contiguous ones of ``input_shape`` in the
        spec's dtype, unless the kind declares its own (``OpKind.inputs``: traced model ops)."""
        kind = get_op_kind(self.kind)
        if kind.inputs is not None:
            return kind.inputs(self)
        return ((self.input_shape, self.dtype, None),) * kind.n_inputs

    def replace(self, **changes: Any) -> OpSpec:
        """A copy with other kind/shape/dtype/mode or hyper-parameters (validated again)."""
        kind = changes.pop("kind", self.kind)
        params = dict(self.params) if kind == self.kind else {}
        shape = changes.pop("input_shape", self.input_shape)
        dtype, mode = changes.pop("dtype", self.dtype), changes.pop("mode", self.mode)
        return OpSpec.make(kind, shape, dtype=dtype, mode=mode, **{**params, **changes})

    def build(self, device: str | torch.device = "cpu") -> torch.nn.Module:
        """The op as a ``torch.nn.Module`` on ``device`` in this spec's dtype and mode."""
        meta = torch.device(device).type == "meta"  # shapes only: never allocate real weights
        with torch.device("meta") if meta else contextlib.nullcontext():
            module = get_op_kind(self.kind).build(self)
        return module.to(device=device, dtype=self.torch_dtype).train(self.mode == "train")

    def example_inputs(
        self, device: str | torch.device = "cpu", *, seed: int = 0
    ) -> tuple[torch.Tensor, ...]:
        """Seeded random input tensor(s) of ``input_specs`` on ``device`` (integer and bool inputs
        are zeros, a valid index of any table; on ``meta``: shapes only)."""
        train, meta = self.mode == "train", torch.device(device).type == "meta"
        gen = torch.Generator(device="cpu").manual_seed(seed)
        out = []
        for shape, name, stride in self.input_specs():
            dt = _input_dtype(name)
            size = (strided_extent(shape, stride),) if stride else shape  # storage of a view
            if meta:
                t = torch.empty(size, dtype=dt, device="meta")
            elif dt.is_floating_point:
                t = torch.randn(size, generator=gen).to(device=device, dtype=dt)
            else:
                t = torch.zeros(size, dtype=dt, device=device)
            t = t.as_strided(shape, stride) if stride else t
            out.append(t.requires_grad_(train and dt.is_floating_point))
        return tuple(out)

    def features(self) -> dict[str, float]:
        """Analytic features (FLOPs, params, bytes read/written, ...), computed once per spec."""
        return dict(op_features(self))


def _input_dtype(name: str) -> torch.dtype:
    """A dtype by its torch name (``float32``, ``int64``, ``bool``, ...)."""
    dtype = DTYPES.get(name) or getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise OpSpecError(f"input dtype {name!r} is not a torch dtype")
    return dtype


def strided_extent(shape: Sequence[int], stride: Sequence[int]) -> int:
    """Elements of storage a view of ``shape`` and ``stride`` spans (0 when it has none)."""
    if 0 in shape:
        return 0
    return 1 + sum((n - 1) * s for n, s in zip(shape, stride))
