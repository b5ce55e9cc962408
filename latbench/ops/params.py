"""Declared hyper-parameters: each op kind says, per parameter, what is valid and what its
canonical form is, so that an op that cannot exist is one ``OpSpecError`` and two specs that
build the same module have one key.

A checker is ``checker(value, input_shape) -> canonical value`` raising ``ValueError`` with
what was expected. Canonical forms: a per-dimension parameter whose entries are all equal is
one int (``kernel=(3, 3)`` -> ``3``); a number that is integral is an int (``scale=2.0`` ->
``2``); an ``out`` equal to what ``out=None`` means is ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

Checker = Callable[[Any, tuple[int, ...]], Any]

MAX_EXTENT = 2**31 - 1
"""Largest size, channel count, kernel or stride (int32 indexing, as most kernels use)."""
MAX_ELEMENTS = 2**40
"""Largest number of elements of an input tensor (4 TiB of float32: no device has more)."""


def as_int(value: Any, low: int = 1, high: int = MAX_EXTENT) -> int:
    """An integer (or an integral float) in [low, high]; bools are not integers here."""
    integral = isinstance(value, int) or (
        isinstance(value, float) and math.isfinite(value) and value.is_integer()
    )
    if isinstance(value, bool) or not integral or not low <= value <= high:
        raise ValueError(f"an integer in [{low}, {high}]")
    return int(value)


def integer(low: int = 1, high: int = MAX_EXTENT) -> Checker:
    return lambda value, shape: as_int(value, low, high)


def odd(low: int = 1) -> Checker:
    def check(value: Any, shape: tuple[int, ...]) -> int:
        v = as_int(value, low)
        if v % 2 == 0:
            raise ValueError(f"an odd integer >= {low}")
        return v

    return check


def per_dim(low: int = 1) -> Checker:
    """An int, or one int per spatial dimension of the N,C,... input; all equal -> one int."""

    def check(value: Any, shape: tuple[int, ...]) -> int | tuple[int, ...]:
        dims = len(shape) - 2
        if isinstance(value, (list, tuple)):
            if len(value) != dims:
                raise ValueError(
                    f"an integer >= {low} or {dims} of them (one per spatial "
                    f"dimension of input shape {shape})"
                )
            values = tuple(as_int(v, low) for v in value)
            return values[0] if len(set(values)) == 1 else values
        return as_int(value, low)

    check.form = "per_dim"  # type: ignore[attr-defined]
    return check


def choice(*valid: Any) -> Checker:
    def check(value: Any, shape: tuple[int, ...]) -> Any:
        if isinstance(value, bool) or value not in valid:
            raise ValueError("one of " + ", ".join(map(str, valid)))
        return value

    return check


def boolean() -> Checker:
    def check(value: Any, shape: tuple[int, ...]) -> bool:
        if not isinstance(value, bool):
            raise ValueError("true or false")
        return value

    return check


def positive_number(high: float = 1024.0) -> Checker:
    """A finite number in (0, high]; integral values become ints (2.0 -> 2)."""

    def check(value: Any, shape: tuple[int, ...]) -> int | float:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not (math.isfinite(value) and 0 < value <= high)
        ):
            raise ValueError(f"a number in (0, {high:g}]")
        return int(value) if float(value).is_integer() else float(value)

    check.form = "number"  # type: ignore[attr-defined]
    return check


def in_channels(shape: tuple[int, ...]) -> int:
    return shape[1]


def channels(implied: Callable[[tuple[int, ...]], int] = in_channels) -> Checker:
    """``out``: None or a channel count; a count equal to what None means (``implied(shape)``,
    by default the input channels) becomes None."""

    def check(value: Any, shape: tuple[int, ...]) -> int | None:
        if value is None:
            return None
        v = as_int(value)
        return None if v == implied(shape) else v

    check.form, check.implied = "channels", implied  # type: ignore[attr-defined]
    return check


def declare(**table: tuple[Any, Checker]) -> dict[str, Any]:
    """``register_op``'s ``defaults`` and ``params`` from one ``name=(default, checker)`` table."""
    return {
        "defaults": {name: default for name, (default, _) in table.items()},
        "params": {name: checker for name, (_, checker) in table.items()},
    }


def optional(checker: Checker) -> Checker:
    """None, or what ``checker`` accepts."""
    return lambda value, shape: None if value is None else checker(value, shape)


def check_shape(kind: str, shape: Sequence[Any], ranks: tuple[int, ...]) -> tuple[int, ...]:
    """The input shape as ints: rank in ``ranks``, sizes in [1, MAX_EXTENT], at most
    MAX_ELEMENTS elements. Raises ``ValueError`` with what was expected."""
    sizes = tuple(as_int(s) for s in shape)
    if len(sizes) not in ranks:
        raise ValueError(f"rank in {ranks}")
    if math.prod(sizes) > MAX_ELEMENTS:
        raise ValueError(f"at most {MAX_ELEMENTS} elements")
    return sizes
