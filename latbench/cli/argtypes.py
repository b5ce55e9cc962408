"""``argparse`` types: numbers that must be in range (``--n 0`` or ``--budget-ms -5`` are
usage errors, exit 2, before anything runs) and names from a vocabulary."""

from __future__ import annotations

import argparse
import importlib
import math
from dataclasses import dataclass


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be finite")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value:g} must be > 0")
    return value


def nonnegative_float(text: str) -> float:
    """A finite number >= 0."""
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value:g} must be >= 0")
    return value


def nonnegative_int(text: str) -> int:
    """An integer >= 0 (seeds)."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be >= 0")
    return value


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
