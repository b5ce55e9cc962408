"""The op-kind registry: one registered builder per building block of the papers, and
``Registry``, the name -> thing mapping every registry of latbench (op kinds, spaces,
genotype builders) is.

Adding a kind is one decorated function (or ``nn.Module`` class taking the spec)::

    @register_op("sepconv", defaults={"out": REQUIRED, "kernel": 3, "dilation": 1})
    def _sepconv(spec: OpSpec) -> nn.Module: ...
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from latbench.errors import PLUGIN_HINT, OpSpecError, UnknownNameError
from latbench.plugin_loader import load_plugins

if TYPE_CHECKING:
    from torch import nn

    from latbench.ops.params import Checker
    from latbench.opspec import InputSpec, OpSpec

T = TypeVar("T")


class Registry(dict[str, T]):
    """Things registered by name, once each; lookups load the plugins first."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def add(self, name: str, item: T) -> None:
        """Register ``item``; ``ValueError`` if ``name`` is registered already."""
        if name in self:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self[name] = item

    def lookup(self, name: str) -> T:
        """The thing registered as ``name``; ``UnknownNameError`` listing the valid names."""
        load_plugins()
        try:
            return self[name]
        except KeyError:
            raise UnknownNameError(self.what, name, self, PLUGIN_HINT) from None

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching a glob, sorted (a glob may match none); a pattern without
        ``*?[`` is a name, and one not registered raises ``UnknownNameError`` (``lookup``)."""
        if not any(c in pattern for c in "*?["):
            self.lookup(pattern)
            return [pattern]
        load_plugins()
        return sorted(fnmatch.filter(self, pattern))


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Marks a hyper-parameter that has no default."""

Builder = Callable[["OpSpec"], "nn.Module"]
InputSpecs = Callable[["OpSpec"], tuple["InputSpec", ...]]


@dataclass(frozen=True)
class OpKind:
    """A registered op kind: how to build it and which hyper-parameters it takes."""

    name: str
    build: Builder
    defaults: Mapping[str, Any] = field(default_factory=dict)
    n_inputs: int = 1
    ranks: tuple[int, ...] = (3, 4, 5)
    doc: str = ""
    params: Mapping[str, Checker] = field(default_factory=dict)
    check: Callable[[tuple[int, ...], dict[str, Any]], None] | None = None
    inputs: InputSpecs | None = None
    """Kinds whose inputs differ in shape or dtype (traced model ops): ``inputs(spec)`` gives
    each input's (shape, dtype name, strides or None); None: ``n_inputs`` contiguous inputs of
    ``spec.input_shape``."""

    def resolve_params(
        self, given: Mapping[str, Any], shape: tuple[int, ...] | None = None
    ) -> dict[str, Any]:
        """Given parameters plus defaults, each range-checked and in canonical form by the
        kind's declared checkers (``latbench.ops.params``) when ``shape`` is given; errors
        name the parameter and what was expected."""
        unknown = sorted(set(given) - set(self.defaults))
        if unknown:
            raise OpSpecError(
                f"op kind {self.name!r} takes no parameter(s) {', '.join(unknown)}; "
                f"valid: {', '.join(sorted(self.defaults)) or '(none)'}"
            )
        merged = {**self.defaults, **given}
        missing = sorted(k for k, v in merged.items() if v is REQUIRED)
        if missing:
            raise OpSpecError(f"op kind {self.name!r} needs parameter(s) {', '.join(missing)}")
        if shape is None:
            return merged
        for name, checker in self.params.items():
            try:
                merged[name] = checker(merged[name], shape)
            except ValueError as exc:
                raise OpSpecError(
                    f"{self.name}: {name}={merged[name]!r}; expected {exc} (input shape {shape})"
                ) from None
        if self.check is not None:
            try:
                self.check(shape, merged)
            except ValueError as exc:
                raise OpSpecError(f"{self.name}: {exc} (input shape {shape})") from None
        return merged


_REGISTRY: Registry[OpKind] = Registry("op kind")


def register_op(
    name: str,
    *,
    defaults: Mapping[str, Any] | None = None,
    n_inputs: int = 1,
    ranks: tuple[int, ...] = (3, 4, 5),
    params: Mapping[str, Checker] | None = None,
    check: Callable[[tuple[int, ...], dict[str, Any]], None] | None = None,
    inputs: InputSpecs | None = None,
) -> Callable[[Builder], Builder]:
    """Decorator registering ``builder(spec) -> nn.Module`` as op kind ``name``; its
    docstring's first paragraph, joined into one line, is the kind's description.

    ``params`` declares a checker per hyper-parameter (every default must have one),
    ``check(shape, params)`` the checks across parameters and the input shape, and
    ``inputs(spec)`` the (shape, dtype) of every input where they are not all the spec's."""
    if set(params or {}) != set(defaults or {}):
        raise ValueError(
            f"op kind {name!r}: declare a checker for every parameter "
            f"(defaults {sorted(defaults or {})}, checkers {sorted(params or {})})"
        )

    def decorate(builder: Builder) -> Builder:
        summary = " ".join((builder.__doc__ or "").strip().split("\n\n")[0].split())
        kind = OpKind(
            name, builder, defaults or {}, n_inputs, ranks, summary, params or {}, check, inputs
        )
        _REGISTRY.add(name, kind)
        return builder

    return decorate


def get_op_kind(name: str) -> OpKind:
    """The registered kind ``name``; ``UnknownNameError`` lists the valid ones."""
    return _REGISTRY.lookup(name)


def list_op_kinds(pattern: str = "*") -> list[str]:
    """Registered kind names matching a glob, sorted (``Registry.names``)."""
    return _REGISTRY.names(pattern)
