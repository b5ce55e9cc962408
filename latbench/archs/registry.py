"""Architecture sampling by space name: the samplers live on the ``Space`` objects
(``latbench.spaces.registry``); the modules of ``latbench.archs`` attach them with
``register_sampler``."""

from __future__ import annotations

from latbench.archs.graph import Architecture
from latbench.spaces.registry import Sampler, get_space, register_sampler, spaces_with_sampler

__all__ = ["Sampler", "register_sampler", "sample_architectures", "spaces_with_architectures"]


def spaces_with_architectures() -> list[str]:
    """Names of the spaces that can sample discrete architectures."""
    return spaces_with_sampler()


def sample_architectures(space: str, n: int, size: str = "small", seed: int = 0
                         ) -> list[Architecture]:
    """``n`` architectures of ``space`` drawn with ``numpy.random.default_rng(seed)``."""
    return get_space(space).sample(n, size, seed)
