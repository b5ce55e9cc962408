"""``argparse`` types: numbers that must be in range (``--n 0`` or ``--budget-ms -5`` are
usage errors, exit 2, before anything runs) and names from a vocabulary."""

from __future__ import annotations

import argparse
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _bounded(
    cast: type, low: float, must: str, strict: bool = False, high: float = math.inf
) -> Any:
    """An ``argparse`` type: a finite ``cast`` number >= ``low`` (> when ``strict``), < ``high``."""

    def parse(text: str) -> int | float:
        try:
            value = cast(text)
        except ValueError:
            what = "an integer" if cast is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be finite")
        if value < low or (strict and value == low) or value >= high:
            shown = value if cast is int else format(value, "g")
            raise argparse.ArgumentTypeError(f"{shown} {must}")
        return value

    return parse


positive_int = _bounded(int, 1, "must be at least 1")
nonnegative_int = _bounded(int, 0, "must be >= 0")
rng_seed = _bounded(int, 0, "must be an integer in [0, 2**63)", high=2**63)
"""A seed: the range numpy's and torch's generators both take."""
positive_float = _bounded(float, 0, "must be > 0", strict=True)
nonnegative_float = _bounded(float, 0, "must be >= 0")


def comma_separated(item: Callable[[str], Any]) -> Callable[[str], tuple[Any, ...]]:
    """An ``argparse`` type: comma-separated values, each parsed by ``item`` (``1,2,3,2``)."""

    def parse(text: str) -> tuple[Any, ...]:
        return tuple(item(part.strip()) for part in text.split(","))

    return parse


@dataclass(frozen=True)
class OneOf:
    """An option type accepting a name of the vocabulary ``<module>.<name>`` (a tuple, or a
    dict's keys). The module is imported when a value is parsed, not when the parser is built,
    so ``latbench CMD --help`` imports none of the code behind the option."""

    module: str
    name: str

    def values(self) -> tuple[str, ...]:
        return tuple(getattr(importlib.import_module(self.module), self.name))

    def __call__(self, text: str) -> str:
        if text not in self.values():
            raise argparse.ArgumentTypeError(
                f"invalid choice: {text!r} (choose from {', '.join(self.values())})"
            )
        return text


SIZE = OneOf("latbench.spaces.registry", "SIZES")
"""``--size``: a search space's size."""
