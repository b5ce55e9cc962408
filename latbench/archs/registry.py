"""Architecture sampling by space name (the samplers live on the ``Space`` objects of
``latbench.spaces.registry``; the modules of ``latbench.archs`` attach them with
``register_sampler``) and, for spaces with a genotype string, the builder that turns it back
into an Architecture."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from latbench.archs.graph import Architecture
from latbench.errors import LatbenchError
from latbench.ops.registry import Registry
from latbench.spaces.registry import get_space

__all__ = [
    "architecture_from_ref",
    "compact_dict",
    "from_compact",
    "register_genotype",
    "sample_architectures",
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


GenotypeBuilder = Callable[[str, Mapping[str, Any]], Architecture]
_GENOTYPE_BUILDERS: Registry[GenotypeBuilder] = Registry("genotype builder", LatbenchError)


def register_genotype(space: str) -> Callable[[GenotypeBuilder], GenotypeBuilder]:
    """Decorator registering ``build(genotype, meta) -> Architecture`` for ``space``: the
    network its genotype string and build parameters (``Architecture.meta``) stand for."""

    def decorate(fn: GenotypeBuilder) -> GenotypeBuilder:
        _GENOTYPE_BUILDERS.add(space, fn)
        return fn

    return decorate


def spaces_with_genotypes() -> list[str]:
    return _GENOTYPE_BUILDERS.names()


def from_compact(data: Mapping[str, Any], source: str = "architecture") -> Architecture:
    """The architecture of a compact JSON object (``compact_dict``): rebuilt by its space's
    genotype builder and checked to carry the same name; every failure is one
    ``LatbenchError`` naming ``source``."""
    space = data.get("space")
    if space not in spaces_with_genotypes():
        raise LatbenchError(
            f"{source}: architecture of space {space!r} has no 'edges' and that space "
            "cannot rebuild one from its genotype; expected a full Architecture.to_json()"
        )
    try:
        arch = _GENOTYPE_BUILDERS[space](str(data.get("genotype", "")), data.get("meta") or {})
    except LatbenchError as exc:
        raise LatbenchError(f"{source}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise LatbenchError(
            f"{source}: compact architecture (space, size, genotype) has a "
            f"missing or bad field ({type(exc).__name__}: {str(exc)[:80]})"
        ) from None
    name = str(data.get("name", ""))
    return arch if name == arch.name else dataclasses.replace(arch, name=name)


def compact_dict(arch: Architecture) -> dict[str, Any]:
    """``arch`` without its edges (space, name, genotype, meta): a few hundred bytes instead
    of tens of KB for a paper-size network. Only for spaces that rebuild from a genotype;
    ``Architecture.from_dict`` reads it back (the rebuilt network is checked equal)."""
    if arch.space not in spaces_with_genotypes():
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
