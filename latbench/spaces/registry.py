"""The search-space registry: one ``Space`` object per paper's space, reached by
``get_space(name)``: its ops at the paper's shapes (``size="paper"``) or at shapes small enough
to profile on 2 CPU cores in minutes (``size="small"``), its sampler of discrete networks and
the layout its search in ``nas/`` needs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from latbench.architecture import INPUT, Architecture, Edge
from latbench.errors import LatbenchError
from latbench.features import output_shape
from latbench.ops.registry import Registry
from latbench.opspec import OpSpec
from latbench.plugin_loader import load_plugins

SIZES = ("small", "paper")
"""Sizes of every search space: latbench's CPU-sized one and the paper's."""

Sampler = Callable[[str, np.random.Generator], Architecture]
"""``sample(size, rng) -> Architecture``: one discrete network of the space."""


T = TypeVar("T")


def for_size(space: str, size: str, configs: Mapping[str, T]) -> T:
    """``configs[size]``; a ``LatbenchError`` naming the valid sizes otherwise."""
    try:
        return configs[size]
    except KeyError:
        raise LatbenchError(
            f"unknown size {size!r} for space {space!r}; valid: {', '.join(configs)}"
        ) from None


def _check_size(space: str, size: str) -> str:
    return for_size(space, size, {s: s for s in SIZES})


@dataclass(eq=False)
class Space:
    """A registered search space: ``ops(size)`` lists its distinct OpSpecs in a stable order;
    ``sample(n, size, seed)`` draws discrete networks (``sampler`` is None for spaces searched
    only as supernets); ``layout(size)`` arranges the ops as its search in ``nas/`` uses them.
    ``default_size``: the size commands use when none is given."""

    name: str
    paper: str
    build_ops: Callable[[str], list[OpSpec]]
    default_size: str = "small"
    sampler: Sampler | None = None
    build_layout: Callable[[str], Any] | None = None

    def ops(self, size: str = "paper") -> list[OpSpec]:
        specs = self._call("ops", lambda s: list(self.build_ops(s)), _check_size(self.name, size))
        return list(dict.fromkeys(self._only(OpSpec, "ops", specs)))

    def sample(self, n: int, size: str | None = None, seed: int = 0) -> list[Architecture]:
        """``n`` networks drawn with ``numpy.random.default_rng(seed)``; a negative or
        non-integer seed and ``n < 0`` are one ``LatbenchError``."""
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise LatbenchError(f"seed {seed!r} must be an integer in [0, 2**63)")
        if n < 0:
            raise LatbenchError(f"number of architectures {n} must be >= 0")
        if self.sampler is None:
            raise LatbenchError(
                f"space {self.name!r} has no architecture sampler; spaces "
                f"with one: {', '.join(spaces_with_architectures())}"
            )
        size = _check_size(self.name, size or self.default_size)
        rng = np.random.default_rng(seed)
        archs = [self._call("sampler", self.sampler, size, rng) for _ in range(n)]
        return self._only(Architecture, "sampler", archs)

    def layout(self, size: str | None = None) -> Any:
        """The ops arranged for this space's search (see the space module's layout type)."""
        if self.build_layout is None:
            raise LatbenchError(f"space {self.name!r} has no search layout")
        return self._call(
            "layout", self.build_layout, _check_size(self.name, size or self.default_size)
        )

    def _call(self, what: str, fn: Callable[..., T], size: str, *args: Any) -> T:
        """``fn(size, *args)``; a raise in the space's (a plugin's) code is one LatbenchError."""
        try:
            return fn(size, *args)
        except LatbenchError:
            raise
        except Exception as exc:
            raise LatbenchError(
                f"space {self.name!r}: its {what} ({size}) raised {type(exc).__name__}: "
                f"{str(exc)[:200]}"
            ) from None

    def _only(self, kind: type, what: str, items: list[Any]) -> list[Any]:
        """``items``, if they are ``kind``s; else one ``LatbenchError``."""
        for item in items:
            if not isinstance(item, kind):
                raise LatbenchError(
                    f"space {self.name!r}: its {what} gave a {type(item).__name__} "
                    f"({str(item)[:60]!r}); expected {kind.__name__}s"
                )
        return items


@dataclass(frozen=True)
class ChoiceLayout:
    """A space searched as a chain of slots, each running one of its candidate ops.

    ``slots[i]`` maps candidate names to OpSpecs; every candidate of slot i reads slot i-1's
    output (slot 0 the network input) and all of them produce the same shape, so that a
    DARTS-style mixed op can weigh them (``latbench search mixed-op``, ``latbench.nas.choices``).
    A choice is one candidate index per slot; its genotype is the chosen names joined by
    ``,`` (names must not contain ``,``). ``check()`` verifies shapes (meta device, no weights).
    Build one with ``ChoiceLayout.of([{"conv3": spec, "conv5": spec}, ...])``.
    """

    slots: tuple[tuple[tuple[str, OpSpec], ...], ...]

    @classmethod
    def of(cls, slots: list[dict[str, OpSpec]]) -> ChoiceLayout:
        """From one ``{name: OpSpec}`` dict per slot, in order; ``LatbenchError`` for an empty
        slot, a name with ``,`` or a candidate that is not an OpSpec."""
        if not slots:
            raise LatbenchError("a ChoiceLayout needs at least one slot")
        out = []
        for i, slot in enumerate(slots):
            if not slot:
                raise LatbenchError(f"slot {i} of the ChoiceLayout has no candidate")
            for name, spec in slot.items():
                if "," in name or not name:
                    raise LatbenchError(
                        f"slot {i}: candidate name {name!r} must be non-empty and without ','"
                    )
                if not isinstance(spec, OpSpec):
                    raise LatbenchError(
                        f"slot {i}: candidate {name!r} is a "
                        f"{type(spec).__name__}, expected an OpSpec"
                    )
            out.append(tuple(slot.items()))
        return cls(tuple(out))

    def names(self, slot: int) -> list[str]:
        return [n for n, _ in self.slots[slot]]

    def candidates(self, slot: int) -> list[OpSpec]:
        return [s for _, s in self.slots[slot]]

    def ops(self) -> list[OpSpec]:
        """Every candidate op, slot after slot, without repeats (what ``profile`` measures)."""
        return list(dict.fromkeys(s for slot in self.slots for _, s in slot))

    def genotype(self, choice: list[int]) -> str:
        """The chosen candidates' names, joined by ``,``."""
        return ",".join(self.slots[i][j][0] for i, j in enumerate(choice))

    def parse(self, genotype: str) -> list[int]:
        """Candidate indices of a genotype string (``genotype``'s inverse)."""
        names = genotype.split(",")
        if len(names) != len(self.slots):
            raise LatbenchError(
                f"genotype {genotype!r} names {len(names)} candidate(s); the "
                f"layout has {len(self.slots)} slots"
            )
        choice = []
        for i, name in enumerate(names):
            if name not in self.names(i):
                raise LatbenchError(
                    f"genotype {genotype!r}: slot {i} has no candidate "
                    f"{name!r}; valid: {', '.join(self.names(i))}"
                )
            choice.append(self.names(i).index(name))
        return choice

    def architecture(self, space: str, choice: list[int]) -> Architecture:
        """The discrete network of ``choice``: a chain ``in -> s0 -> s1 -> ...``."""
        nodes = [INPUT] + [f"s{i}" for i in range(len(choice))]
        edges = (Edge((nodes[i],), nodes[i + 1], self.slots[i][j][1]) for i, j in enumerate(choice))
        genotype = self.genotype(choice)
        return Architecture(space, tuple(edges), nodes[-1], f"{space}:{genotype}", genotype)

    def sample(self, space: str, rng: np.random.Generator) -> Architecture:
        """A network of uniformly drawn candidates (a sampler: ``register_sampler``)."""
        return self.architecture(space, [int(rng.integers(len(slot))) for slot in self.slots])

    def check(self) -> None:
        """``LatbenchError`` naming the slot and candidate whose input or output shape breaks
        the chain (candidates of a slot read and write one shape; slot i reads slot i-1's)."""
        reads = self.slots[0][0][1].input_shape
        for i, slot in enumerate(self.slots):
            for name, spec in slot:
                if spec.input_shape != reads:
                    where = f"slot {i - 1} writes" if i else f"candidate {slot[0][0]!r} reads"
                    raise LatbenchError(
                        f"slot {i} candidate {name!r} reads {spec.input_shape}; {where} {reads}"
                    )
            writes = sorted({(name, output_shape(spec)) for name, spec in slot})
            if len({shape for _, shape in writes}) != 1:
                shapes = ", ".join(f"{n}: {s}" for n, s in writes)
                raise LatbenchError(f"slot {i}: candidates write different shapes ({shapes})")
            reads = writes[0][1]


_SPACES: Registry[Space] = Registry("space")


def register_space(
    name: str, *, paper: str, default_size: str = "small"
) -> Callable[[Callable[[str], list[OpSpec]]], Callable[[str], list[OpSpec]]]:
    """Decorator registering ``build_ops(size) -> list[OpSpec]`` as space ``name``."""

    def decorate(fn: Callable[[str], list[OpSpec]]) -> Callable[[str], list[OpSpec]]:
        _SPACES.add(name, Space(name, paper, fn, _check_size(name, default_size)))
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


def get_space(name: str) -> Space:
    """The registered space ``name``; ``UnknownNameError`` lists the valid ones."""
    return _SPACES.lookup(name)


def list_spaces(pattern: str = "*") -> list[str]:
    """Registered space names matching a glob, sorted (``Registry.names``)."""
    return _SPACES.names(pattern)


def spaces_with_architectures() -> list[str]:
    """Names of the spaces that can sample discrete architectures."""
    load_plugins()
    return sorted(n for n, sp in _SPACES.items() if sp.sampler is not None)


def default_size(space: str) -> str:
    """The size commands use for ``space`` when none is given."""
    return get_space(space).default_size


def size_note(fitted: Mapping[str, Sequence[str]], space: str, size: str, source: str) -> str:
    """Why a predictor ``source`` of ``space`` at ``size`` goes beyond its tables ("" when it
    does not, or when ``fitted``, its ``info_["sizes"]``: space -> sizes, is empty): another
    space, or another size of the same one (``latbench predict`` and ``validate`` print it)."""
    sizes = fitted.get(space, [])
    if not fitted or (sizes and (not size or size in sizes)):
        return ""
    if not sizes:
        held = ", ".join(f"{k} ({'/'.join(v)})" for k, v in sorted(fitted.items()))
        return f"{source} was fitted on {held}, not on {space}"
    return (
        f"{source} was fitted on {space} at size {'/'.join(sizes)}; predicting size {size} "
        "goes beyond what it was fitted on"
    )
