"""Op kinds of traced models (``latbench.models``): one call as the model runs it, rebuilt from
its key alone so that a worker process can time it: ``torch_call`` (a function or tensor
method), ``torch_module`` (a leaf module rebuilt from its class and constructor arguments) and
``submodule`` (a leaf block taken from the model itself); see each builder.

All three take their inputs as the call received them: ``inputs`` lists every tensor argument
as ``"NxCxHxW:dtype"`` (``input_shape`` is the first one's; ``"NxCxHxW:dtype:s0,s1,..."`` with
its strides when it is not contiguous: the op is timed on a tensor laid out so), and ``args`` /
``kwargs`` are the call's arguments in which ``"$i"`` stands for the i-th tensor; lists (tuples
are plain JSON lists), slices, ``...``, dtypes, memory formats and non-finite floats are written
``["$list", ...]``, ``["$slice", a, b, c]``, ``"$..."``, ``"$dtype:float16"``,
``"$memory_format:channels_last"`` and ``"$float:inf"``.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib
import inspect
import math
import re
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from latbench.errors import OpSpecError
from latbench.model_loader import load_model, parse_model_spec, trusted_model
from latbench.ops import params as P
from latbench.ops.params import Checker
from latbench.ops.registry import Builder, register_op
from latbench.opspec import InputSpec, OpSpec
from latbench.trust import check_trusted

RANKS = tuple(range(1, 9))
_FORBIDDEN = "|;\n"


class Unencodable(ValueError):
    """An argument value that has no key form (a module, a function, a tensor subclass)."""


def encode_value(value: Any, tensor_index: Callable[[Any], int | None]) -> Any:
    """``value`` in key form; ``tensor_index(v)`` is the input number of a tensor argument
    (None: not a tensor). Raises ``Unencodable`` naming the type."""
    index = tensor_index(value)
    if index is not None:
        return f"${index}"
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else f"$float:{value}"
    if isinstance(value, str):
        if value.startswith("$") or any(c in value for c in _FORBIDDEN):
            raise Unencodable(f"string {value[:40]!r}")
        return value
    if isinstance(value, list):  # some callees need a list (they .copy() or append)
        return ("$list", *(encode_value(v, tensor_index) for v in value))
    if isinstance(value, tuple):  # torch.Size too
        return tuple(encode_value(v, tensor_index) for v in value)
    if isinstance(value, slice):
        return (
            "$slice",
            *(encode_value(v, tensor_index) for v in (value.start, value.stop, value.step)),
        )
    if value is Ellipsis:
        return "$..."
    if isinstance(value, torch.dtype):
        return f"$dtype:{str(value).removeprefix('torch.')}"
    if isinstance(value, torch.memory_format):
        return f"$memory_format:{str(value).removeprefix('torch.')}"
    if isinstance(value, torch.device):
        return "$device"
    raise Unencodable(f"argument of type {type(value).__name__}")


def _decoder(template: Any) -> Callable[[tuple[torch.Tensor, ...]], Any]:
    """A function of the input tensors that rebuilds ``template`` (decoded once, here)."""
    if isinstance(template, str) and template.startswith("$"):
        tag, _, rest = template[1:].partition(":")
        if tag.isdigit():
            i = int(tag)
            return lambda ts: ts[i]
        if tag == "...":
            return lambda ts: Ellipsis
        if tag == "device":
            return lambda ts: ts[0].device if ts else torch.device("cpu")
        const = {
            "float": lambda: float(rest),
            "dtype": lambda: getattr(torch, rest),
            "memory_format": lambda: getattr(torch, rest),
        }.get(tag, lambda: None)()
        if const is None:
            raise OpSpecError(f"unknown argument form {template!r}")
        return lambda ts: const
    if isinstance(template, tuple) and template[:1] == ("$slice",):
        parts = [_decoder(v) for v in template[1:]]
        return lambda ts: slice(*(p(ts) for p in parts))
    if isinstance(template, tuple) and template[:1] == ("$list",):
        parts = [_decoder(v) for v in template[1:]]
        return lambda ts: [p(ts) for p in parts]
    if isinstance(template, tuple):
        if not _tags(template):
            return lambda ts: template
        parts = [_decoder(v) for v in template]
        return lambda ts: tuple(p(ts) for p in parts)
    return lambda ts: template


def _tags(template: Any) -> list[str]:
    """Every ``$``-tagged string of ``template`` (a tensor reference ``$i`` or a form)."""
    if isinstance(template, str):
        return [template] if template.startswith("$") else []
    if isinstance(template, tuple):
        return [tag for v in template for tag in _tags(v)]
    return []


def resolve_function(name: str) -> Callable[..., Any]:
    """``module.qualname`` of a function (``torch.add``, ``_operator.add``), or
    ``method:NAME`` for a tensor method; raises ``OpSpecError`` when it does not resolve or
    lies outside the trusted packages (``check_trusted``)."""
    if name.startswith("method:"):
        method = name.removeprefix("method:")
        if not method.isidentifier() or method.startswith("_"):
            raise OpSpecError(f"torch_call: bad method name {method!r}")
        return lambda self, *a, **k: getattr(self, method)(*a, **k)
    check_trusted(name, "torch_call")
    module, _, attr = name.rpartition(".")
    head, _, owner = module.rpartition(".")
    fn = _lookup(module, attr) or _lookup(head, owner, attr)  # module.fn or module.Class.fn
    if not callable(fn):
        raise OpSpecError(
            f"torch_call: function {name!r} does not resolve (its module is not importable here)"
        )
    return fn


def _lookup(module: str, *attrs: str) -> Any:
    """``module.attrs[0].attrs[1]...``, or None where it does not import or resolve."""
    try:
        return functools.reduce(getattr, attrs, importlib.import_module(module))
    except (ImportError, AttributeError, ValueError):
        return None


def function_name(fn: Callable[..., Any]) -> str:
    """The name ``resolve_function`` turns back into ``fn``; ``OpSpecError`` if none does."""
    short = getattr(fn, "__name__", "")
    name = f"{getattr(fn, '__module__', None) or ''}.{getattr(fn, '__qualname__', '')}"
    for candidate in (name, f"_operator.{short}", f"builtins.{short}", f"torch.{short}"):
        try:
            if resolve_function(candidate) is fn:
                return candidate
        except OpSpecError:
            pass
    raise OpSpecError(f"function {name!r} cannot be named so that it resolves again")


def resolve_class(name: str) -> type:
    """The ``nn.Module`` class ``module.Class`` names, in a trusted package only."""
    check_trusted(name, "torch_module")
    module, _, attr = name.rpartition(".")
    cls = _lookup(module, attr)
    if cls is None:
        raise OpSpecError(f"torch_module: class {name!r} does not resolve")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise OpSpecError(f"torch_module: {name!r} is not an nn.Module class")
    return cls


class TracedCall(nn.Module):
    """``fn(*args, **kwargs)`` with the template's tensor references bound to the inputs; a
    module ``fn`` is registered so that it moves with ``.to()``."""

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: tuple):
        super().__init__()
        self.fn = fn
        self._args = _decoder(tuple(args))
        self._kwargs = [(k, _decoder(v)) for k, v in kwargs]
        self._simple = tuple(args)[:1] == ("$0",) and not _tags(tuple(args)[1:]) and not kwargs
        self._rest = tuple(args)[1:]

    def forward(self, *tensors: torch.Tensor) -> Any:
        if self._simple:
            return self.fn(tensors[0], *self._rest)
        return self.fn(*self._args(tensors), **{k: d(tensors) for k, d in self._kwargs})


def _input_specs(spec: OpSpec) -> tuple[InputSpec, ...]:
    return tuple(_parse_input(text) for text in spec.p["inputs"])


def _parse_input(text: str) -> InputSpec:
    """``NxCxHxW:dtype[:s0,s1,...]`` as (shape, dtype name, strides or None); ValueError."""
    dims, _, rest = text.partition(":")
    dtype, _, strides = rest.partition(":")
    shape = tuple(int(s) for s in dims.split("x")) if dims else ()
    stride = tuple(int(s) for s in strides.split(",")) if strides else None
    if (
        any(s < 0 for s in shape + (stride or ()))
        or (stride is not None and len(stride) != len(shape))
        or not isinstance(getattr(torch, dtype, None), torch.dtype)
    ):
        raise ValueError(text)
    return shape, dtype, stride


def _inputs_checker(value: Any, shape: tuple[int, ...]) -> tuple[str, ...]:
    if not isinstance(value, tuple):
        raise ValueError("a list of 'NxCxHxW:dtype' strings")
    for text in value:
        try:
            _parse_input(text)
        except (ValueError, AttributeError):
            raise ValueError(
                "a list of 'NxCxHxW:dtype' strings (':s0,s1,...' strides where not "
                f"contiguous), not {str(text)[:40]!r}"
            ) from None
    return value


def _template(what: str) -> Callable[[Any, tuple[int, ...]], Any]:
    def check(value: Any, shape: tuple[int, ...]) -> Any:
        if not isinstance(value, tuple):
            raise ValueError(f"a list ({what})")
        if what == "kwargs" and not all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in value
        ):
            raise ValueError("a list of [name, value] pairs")
        return tuple(sorted(value)) if what == "kwargs" else value

    return check


def _text(value: Any, shape: tuple[int, ...]) -> str:
    if not isinstance(value, str) or not value or any(c in value for c in _FORBIDDEN):
        raise ValueError("a non-empty name without '|' or ';'")
    return value


def _digest(value: Any, shape: tuple[int, ...]) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"([0-9a-f]{12})?", value):
        raise ValueError("12 hex digits (block_digest), or empty")
    return value


def _first_input(shape: tuple[int, ...], p: dict[str, Any]) -> None:
    specs = p["inputs"]
    want = (_parse_input(specs[0])[0] if specs else ()) or (1,)
    if tuple(shape) != want:
        raise ValueError(
            f"input shape {shape} must be the first input's ({specs[:1]}, or 1 for a scalar)"
        )
    for tag in _tags((p["args"], p["kwargs"])):
        if tag[1:].isdigit() and int(tag[1:]) >= len(specs):
            raise ValueError(f"argument {tag} refers to a missing input ({len(specs)} given)")


def _traced_kind(name: str, **table: tuple[Any, Checker]) -> Callable[[Builder], Builder]:
    """``register_op`` of a traced-call kind: ``table`` plus ``inputs``, ``args``, ``kwargs``."""
    return register_op(
        name,
        ranks=RANKS,
        check=_first_input,
        inputs=_input_specs,
        **P.declare(
            **table,
            inputs=((), _inputs_checker),
            args=((), _template("args")),
            kwargs=((), _template("kwargs")),
        ),
    )


@_traced_kind("torch_call", fn=("torch.add", _text))
def build_torch_call(spec: OpSpec) -> nn.Module:
    """A traced function or tensor-method call (add, matmul, softmax, permute, cat, ...)."""
    return TracedCall(resolve_function(spec.p["fn"]), spec.p["args"], spec.p["kwargs"])


@_traced_kind("torch_module", module=("torch.nn.Identity", _text), init=((), _template("kwargs")))
def build_torch_module(spec: OpSpec) -> nn.Module:
    """A traced leaf module rebuilt from its class and constructor arguments (Conv2d,
    BatchNorm2d, LayerNorm, GELU, MultiheadAttention, ...)."""
    cls = resolve_class(spec.p["module"])
    try:
        module = cls(**{k: _decoder(v)(()) for k, v in spec.p["init"]})
    except (TypeError, ValueError, RuntimeError) as exc:
        raise OpSpecError(
            f"torch_module: {spec.p['module']}(...) does not build: "
            f"{str(exc).splitlines()[0][:120]}"
        ) from None
    return TracedCall(module, spec.p["args"], spec.p["kwargs"])


@functools.lru_cache(maxsize=4)
def _cached_model(model: str, shape: str, meta: bool) -> nn.Module:
    if not trusted_model(parse_model_spec(model)):
        raise OpSpecError(
            f"submodule: model {model[:120]!r} is not loaded by this command; "
            "a key may rebuild blocks of timm:/torchvision: models and of models "
            "given with --model (or a plugin)"
        )
    return load_model(model, shape, "meta" if meta else "cpu")[0]


def block_digest(block: nn.Module) -> str:
    """12 hex digits of sha256 over what a ``submodule`` key's model name and path cannot
    tell apart: the block's ``repr``, parameter and buffer shapes, and the qualified name and
    source of each of its classes outside torch (two ``net.py`` files in two folders, or one
    edited between runs, give two keys, not one row of the other's latency)."""
    parts = [repr(block), *(f"{n}:{shape}" for n, shape in tensor_shapes(block))]
    classes: set[type] = {type(m) for m in block.modules()}
    for cls in sorted(classes, key=lambda c: c.__qualname__):
        if cls.__module__.split(".")[0] != "torch":
            parts.append(_class_source(cls))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def tensor_shapes(module: nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of every parameter and buffer of ``module``."""
    return [(n, tuple(t.shape)) for n, t in [*module.named_parameters(), *module.named_buffers()]]


@functools.lru_cache(maxsize=256)
def _class_source(cls: type) -> str:
    """A class's qualified name and source (cached: ``inspect.getsource`` is slow)."""
    name = f"{cls.__module__}.{cls.__qualname__}"
    try:
        return f"{name}\n{inspect.getsource(cls)}"
    except (OSError, TypeError):
        return name  # no source file (built in a notebook cell): the repr and names stand


@_traced_kind(
    "submodule",
    model=("torchvision:resnet18", _text),
    shape=("1x3x224x224", _text),
    path=("fc", _text),
    digest=("", _digest),
)
def build_submodule(spec: OpSpec) -> nn.Module:
    """A leaf block taken from the model itself (a ``--leaf`` class, or a module that does
    not rebuild from constructor arguments): model name, its input shape, module path
    (``.``: the whole model) and ``block_digest`` (when given, the block built must have it:
    else its code changed since the key was traced)."""
    meta = torch.empty(0).device.type == "meta"  # OpSpec.build("meta") sets the default
    model = _cached_model(spec.p["model"], spec.p["shape"], meta)
    try:
        sub = model if spec.p["path"] == "." else model.get_submodule(spec.p["path"])
    except AttributeError:
        raise OpSpecError(
            f"submodule: {spec.p['model']} has no module {spec.p['path']!r}"
        ) from None
    if spec.p["digest"] and block_digest(sub) != spec.p["digest"]:
        raise OpSpecError(
            f"submodule: module {spec.p['path']!r} of {spec.p['model']} is not the block this "
            "key was traced from (its code or shapes changed since); trace the model again"
        )
    return TracedCall(copy.deepcopy(sub), spec.p["args"], spec.p["kwargs"])
