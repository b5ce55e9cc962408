"""Architecture sampling by space name: the samplers live on the ``Space`` objects
(``latbench.spaces.registry``); the modules of ``latbench.archs`` attach them with
``register_sampler``."""

from __future__ import annotations

from latbench.archs.graph import Architecture
from latbench.errors import LatbenchError
from latbench.spaces.registry import Sampler, get_space, register_sampler, spaces_with_sampler

__all__ = ["Sampler", "register_sampler", "sample_architectures", "spaces_with_architectures"]


def spaces_with_architectures() -> list[str]:
    """Names of the spaces that can sample discrete architectures."""
    return spaces_with_sampler()


def sample_architectures(space: str, n: int, size: str = "small", seed: int = 0
                         ) -> list[Architecture]:
    """``n`` architectures of ``space`` drawn with ``numpy.random.default_rng(seed)``; a
    negative or non-integer seed and ``n < 0`` are one ``LatbenchError``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise LatbenchError(f"seed {seed!r} must be an integer in [0, 2**63)")
    if n < 0:
        raise LatbenchError(f"number of architectures {n} must be >= 0")
    return get_space(space).sample(n, size, seed)
