"""The search-space registry: one ``Space`` object per paper's space.

A space yields the ops to profile at the paper's shapes (``size="paper"``) or at shapes small
enough to profile on 2 CPU cores in a few minutes (``size="small"``); where the paper's search
samples discrete networks, its sampler (attached by ``latbench.archs``); where a search in
``nas/`` needs the ops arranged (stages, layers, cells), its layout (``register_layout`` in the
space's module). Everything a search needs from a space is reached from ``get_space(name)``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from latbench.choices import SIZES  # re-exported; shared with the parsers
from latbench.errors import LatbenchError, UnknownSpaceError
from latbench.opspec import OpSpec

if TYPE_CHECKING:
    from latbench.archs.graph import Architecture

Sampler = Callable[[str, np.random.Generator], "Architecture"]
"""``sample(size, rng) -> Architecture``: one discrete network of the space."""


def _check_size(space: str, size: str) -> None:
    if size not in SIZES:
        raise LatbenchError(f"unknown size {size!r} for space {space!r}; valid: "
                            f"{', '.join(SIZES)}")


@dataclass(eq=False)
class Space:
    """A registered search space: its ops, its sampler and the layout its search needs.

    ``ops(size)`` lists its distinct OpSpecs in a stable order; ``sample(n, size, seed)``
    draws discrete networks (``sampler`` is None for spaces searched only as supernets);
    ``layout(size)`` arranges the ops as the space's search in ``nas/`` uses them (None when
    no search needs more than the op list). ``default_size``: the size commands use when
    none is given.
    """

    name: str
    paper: str
    build_ops: Callable[[str], list[OpSpec]]
    doc: str = ""
    default_size: str = "small"
    sampler: Sampler | None = None
    build_layout: Callable[[str], Any] | None = None

    def ops(self, size: str = "paper") -> list[OpSpec]:
        _check_size(self.name, size)
        return list(dict.fromkeys(self.build_ops(size)))  # drop duplicates, keep order

    def sample(self, n: int, size: str | None = None, seed: int = 0) -> list["Architecture"]:
        """``n`` networks drawn with ``numpy.random.default_rng(seed)``."""
        _ensure_archs_loaded()
        if self.sampler is None:
            raise LatbenchError(f"space {self.name!r} has no architecture sampler; spaces "
                                f"with one: {', '.join(spaces_with_sampler())}")
        size = size or self.default_size
        _check_size(self.name, size)
        rng = np.random.default_rng(seed)
        return [self.sampler(size, rng) for _ in range(n)]

    def layout(self, size: str | None = None) -> Any:
        """The ops arranged for this space's search (see the space module's layout type)."""
        if self.build_layout is None:
            raise LatbenchError(f"space {self.name!r} has no search layout")
        size = size or self.default_size
        _check_size(self.name, size)
        return self.build_layout(size)


_SPACES: dict[str, Space] = {}


def register_space(name: str, *, paper: str, default_size: str = "small"
                   ) -> Callable[[Callable[[str], list[OpSpec]]], Callable[[str], list[OpSpec]]]:
    """Decorator registering ``build_ops(size) -> list[OpSpec]`` as space ``name``."""

    def decorate(fn: Callable[[str], list[OpSpec]]) -> Callable[[str], list[OpSpec]]:
        if name in _SPACES:
            raise ValueError(f"space {name!r} is registered twice")
        _check_size(name, default_size)
        doc = (fn.__doc__ or "").strip().splitlines()
        _SPACES[name] = Space(name, paper, fn, doc[0] if doc else "", default_size)
        return fn

    return decorate


def _attach(space: str, what: str, fn: Callable) -> Callable:
    if space not in _SPACES:
        raise ValueError(f"{what} for unregistered space {space!r}: register the space first")
    if getattr(_SPACES[space], what) is not None:
        raise ValueError(f"space {space!r} has two {what}s")
    setattr(_SPACES[space], what, fn)
    return fn


def register_sampler(space: str) -> Callable[[Sampler], Sampler]:
    """Decorator attaching ``sample(size, rng) -> Architecture`` to the registered ``space``."""
    return lambda fn: _attach(space, "sampler", fn)


def register_layout(space: str) -> Callable[[Callable[[str], Any]], Callable[[str], Any]]:
    """Decorator attaching ``layout(size)`` (the ops arranged for the space's search)."""
    return lambda fn: _attach(space, "build_layout", fn)


def _ensure_loaded() -> None:
    import latbench.spaces  # noqa: F401


def _ensure_archs_loaded() -> None:
    import latbench.archs  # noqa: F401  (its modules attach the samplers)


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


def spaces_with_sampler() -> list[str]:
    """Names of the spaces that can sample discrete architectures."""
    _ensure_loaded()
    _ensure_archs_loaded()
    return sorted(n for n, sp in _SPACES.items() if sp.sampler is not None)


def default_size(space: str) -> str:
    """The size commands use for ``space`` when none is given."""
    return get_space(space).default_size
