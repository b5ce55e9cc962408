"""Architecture samplers per space: ``sample_architectures(space, n, size, seed)``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from latbench.archs.graph import Architecture
from latbench.errors import UnknownSpaceError

Sampler = Callable[[str, np.random.Generator], Architecture]
_SAMPLERS: dict[str, Sampler] = {}


def register_sampler(space: str) -> Callable[[Sampler], Sampler]:
    """Decorator registering ``sample(size, rng) -> Architecture`` for ``space``."""

    def decorate(fn: Sampler) -> Sampler:
        _SAMPLERS[space] = fn
        return fn

    return decorate


def _ensure_loaded() -> None:
    import latbench.archs  # noqa: F401


def spaces_with_architectures() -> list[str]:
    _ensure_loaded()
    return sorted(_SAMPLERS)


def sample_architectures(space: str, n: int, size: str = "small", seed: int = 0
                         ) -> list[Architecture]:
    """``n`` architectures of ``space`` drawn with ``numpy.random.default_rng(seed)``."""
    _ensure_loaded()
    if space not in _SAMPLERS:
        raise UnknownSpaceError(space, _SAMPLERS)
    rng = np.random.default_rng(seed)
    return [_SAMPLERS[space](size, rng) for _ in range(n)]
