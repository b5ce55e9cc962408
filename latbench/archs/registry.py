"""Architectures by space name: sampled (``Space.sample``) or named by a file or a
``SPACE:SEED[:SIZE]`` reference."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from latbench.architecture import Architecture
from latbench.errors import LatbenchError
from latbench.spaces.registry import get_space

__all__ = ["architecture_from_ref", "sample_architectures"]


def sample_architectures(
    space: str, n: int, size: str | None = None, seed: int = 0
) -> list[Architecture]:
    """``n`` architectures of ``space``: ``get_space(space).sample(n, size, seed)``."""
    return get_space(space).sample(n, size, seed)


def architecture_from_ref(text: str) -> Architecture:
    """The one architecture ``text`` names: a path to an ``Architecture.to_json()`` file, or
    ``SPACE:SEED[:SIZE]`` to sample one (``nasbench201:3``, ``msnas:0:small``; SIZE defaults
    to the space's own, ``latbench.spaces.default_size``). The one parser of every command
    that takes an architecture (validate, memory)."""
    path = Path(text)
    if path.is_file():
        return Architecture.from_file(path)
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[1].lstrip("-").isdigit():
        raise LatbenchError(
            f"architecture {text!r} is neither an existing JSON file nor "
            "SPACE:SEED[:SIZE] (e.g. nasbench201:0 or nasbench201:0:paper)"
        )
    space, seed = parts[0], int(parts[1])
    size = parts[2] if len(parts) == 3 else get_space(space).default_size
    arch = sample_architectures(space, 1, size, seed)[0]
    return arch if arch.name else dataclasses.replace(arch, name=f"{space}-s{seed}-{size}")
