"""Architecture sampling by space name (the samplers live on the ``Space`` objects of
``latbench.spaces.registry``; the modules of ``latbench.archs`` attach them with
``register_sampler``) and, for spaces with a genotype string, the builder that turns it back
into an Architecture."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from latbench.archs.graph import Architecture
from latbench.errors import LatbenchError
from latbench.plugin_loader import load_plugins
from latbench.spaces.registry import Sampler, get_space, register_sampler, spaces_with_architectures

__all__ = [
    "Sampler",
    "architecture_from_ref",
    "compact_dict",
    "from_compact",
    "register_genotype",
    "register_sampler",
    "sample_architectures",
    "spaces_with_architectures",
    "spaces_with_genotypes",
]


def sample_architectures(
    space: str, n: int, size: str | None = None, seed: int = 0
) -> list[Architecture]:
    """``n`` architectures of ``space`` drawn with ``numpy.random.default_rng(seed)``; a
    negative or non-integer seed and ``n < 0`` are one ``LatbenchError``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise LatbenchError(f"seed {seed!r} must be an integer in [0, 2**63)")
    if n < 0:
        raise LatbenchError(f"number of architectures {n} must be >= 0")
    return get_space(space).sample(n, size, seed)


def architecture_from_ref(text: str) -> Architecture:
    """The one architecture ``text`` names: a path to an ``Architecture.to_json()`` file, or
    ``SPACE:SEED[:SIZE]`` to sample one (``nasbench201:3``, ``msnas:0:small``; SIZE defaults
    to the space's own, ``latbench.spaces.default_size``). The one parser of every command
    that takes an architecture (validate, memory)."""

    from latbench.spaces import default_size

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
    size = parts[2] if len(parts) == 3 else default_size(space)
    arch = sample_architectures(space, 1, size, seed)[0]
    return (
        arch
        if arch.name
        else Architecture(
            arch.space, arch.edges, arch.output, f"{space}-s{seed}-{size}", arch.genotype, arch.meta
        )
    )


GenotypeBuilder = Callable[[str, Mapping[str, Any]], Architecture]
_GENOTYPE_BUILDERS: dict[str, GenotypeBuilder] = {}


def register_genotype(space: str) -> Callable[[GenotypeBuilder], GenotypeBuilder]:
    """Decorator registering ``build(genotype, meta) -> Architecture`` for ``space``: the
    network its genotype string and build parameters (``Architecture.meta``) stand for."""

    def decorate(fn: GenotypeBuilder) -> GenotypeBuilder:
        _GENOTYPE_BUILDERS[space] = fn
        return fn

    return decorate


def spaces_with_genotypes() -> list[str]:
    load_plugins()
    return sorted(_GENOTYPE_BUILDERS)


def from_compact(data: Mapping[str, Any]) -> Architecture:
    """The architecture of a compact JSON object (``compact_dict``): rebuilt by its space's
    genotype builder and checked to carry the same name."""
    load_plugins()
    space = data.get("space")
    if space not in _GENOTYPE_BUILDERS:
        raise LatbenchError(
            f"architecture of space {space!r} has no 'edges' and that space "
            "cannot rebuild one from its genotype; expected a full "
            "Architecture.to_json()"
        )
    arch = _GENOTYPE_BUILDERS[space](str(data.get("genotype", "")), data.get("meta") or {})
    name = str(data.get("name", ""))
    if name != arch.name:
        arch = Architecture(arch.space, arch.edges, arch.output, name, arch.genotype, arch.meta)
    return arch


def compact_dict(arch: Architecture) -> dict[str, Any]:
    """``arch`` without its edges (space, name, genotype, meta): a few hundred bytes instead
    of tens of KB for a paper-size network. Only for spaces that rebuild from a genotype;
    ``Architecture.from_dict`` reads it back (the rebuilt network is checked equal)."""
    load_plugins()
    if arch.space not in _GENOTYPE_BUILDERS:
        raise LatbenchError(
            f"space {arch.space!r} cannot rebuild an architecture from its "
            "genotype; store the full Architecture.to_json()"
        )
    return {
        "space": arch.space,
        "name": arch.name,
        "genotype": arch.genotype,
        "meta": dict(arch.meta),
    }
