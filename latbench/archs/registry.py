"""Architecture samplers per space: ``sample_architectures(space, n, size, seed)``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from latbench.archs.graph import Architecture
from latbench.errors import LatbenchError, UnknownNameError, UnknownSpaceError

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
    """``n`` architectures of ``space`` drawn with ``numpy.random.default_rng(seed)``.

    Raises ``UnknownSpaceError`` for an unknown space, a ``LatbenchError`` saying so for a
    space that has ops but no sampler, and for a bad size, a negative seed or ``n < 0``."""
    from latbench.spaces import SIZES, list_spaces

    _ensure_loaded()
    if space not in _SAMPLERS:
        if space in list_spaces():
            raise LatbenchError(f"space {space!r} has no architecture sampler (its ops can be "
                                "profiled, but whole networks cannot be sampled); spaces with "
                                f"one: {', '.join(sorted(_SAMPLERS))}")
        raise UnknownSpaceError(space, _SAMPLERS)
    if size not in SIZES:
        raise UnknownNameError("size", size, SIZES)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise LatbenchError(f"seed {seed!r} must be an integer in [0, 2**63)")
    if n < 0:
        raise LatbenchError(f"number of architectures {n} must be >= 0")
    rng = np.random.default_rng(seed)
    return [_SAMPLERS[space](size, rng) for _ in range(n)]
