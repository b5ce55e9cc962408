"""The search-space registry: for each paper, the OpSpecs its search space contains.

A space yields the ops to profile at the paper's shapes (``size="paper"``) or at shapes small
enough to profile on 2 CPU cores in a few minutes (``size="small"``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass

from latbench.errors import LatbenchError, UnknownSpaceError
from latbench.opspec import OpSpec

SIZES = ("small", "paper")
_DEFAULT_SIZES = {"nasbench201": "paper"}


def default_size(space: str) -> str:
    """The size ``space`` means when none is given: ``paper`` for NAS-Bench-201 (the
    benchmark's own network, C=16 and N=5, runs on a CPU), ``small`` for the other spaces,
    whose paper sizes are large 3D and segmentation networks."""
    return _DEFAULT_SIZES.get(space, "small")


@dataclass(frozen=True)
class Space:
    """A registered search space; ``ops(size)`` lists its distinct OpSpecs in a stable order."""

    name: str
    paper: str
    build_ops: Callable[[str], list[OpSpec]]
    doc: str = ""

    def ops(self, size: str = "paper") -> list[OpSpec]:
        if size not in SIZES:
            raise LatbenchError(f"unknown size {size!r} for space {self.name!r}; valid: "
                                f"{', '.join(SIZES)}")
        return list(dict.fromkeys(self.build_ops(size)))  # drop duplicates, keep order


_SPACES: dict[str, Space] = {}


def register_space(name: str, *, paper: str) -> Callable[[Callable[[str], list[OpSpec]]],
                                                        Callable[[str], list[OpSpec]]]:
    """Decorator registering ``build_ops(size) -> list[OpSpec]`` as space ``name``."""

    def decorate(fn: Callable[[str], list[OpSpec]]) -> Callable[[str], list[OpSpec]]:
        if name in _SPACES:
            raise ValueError(f"space {name!r} is registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        _SPACES[name] = Space(name, paper, fn, doc[0] if doc else "")
        return fn

    return decorate


def _ensure_loaded() -> None:
    import latbench.spaces  # noqa: F401


def get_space(name: str) -> Space:
    """The registered space ``name``; ``UnknownSpaceError`` lists the valid ones."""
    _ensure_loaded()
    try:
        return _SPACES[name]
    except KeyError:
        raise UnknownSpaceError(name, _SPACES) from None


def list_spaces(pattern: str = "*") -> list[str]:
    _ensure_loaded()
    return sorted(n for n in _SPACES if fnmatch.fnmatch(n, pattern))
