"""Shared helper of the space modules: per-size configurations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from latbench.errors import LatbenchError

T = TypeVar("T")


def for_size(space: str, size: str, configs: Mapping[str, T]) -> T:
    """``configs[size]``; a ``LatbenchError`` naming the valid sizes otherwise."""
    try:
        return configs[size]
    except KeyError:
        raise LatbenchError(
            f"unknown size {size!r} for space {space!r}; valid: {', '.join(configs)}"
        ) from None
