"""The deployment protocols of ``latbench validate --protocol NAME`` (``register_protocol``).
Imports nothing heavy: ``run`` may be ``"module:function"``, imported when it runs."""

from __future__ import annotations

import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from latbench.errors import LatbenchError
from latbench.ops.registry import Registry

if TYPE_CHECKING:
    from latbench.architecture import Architecture


@dataclass(frozen=True)
class Protocol:
    """A deployment protocol: ``limits`` (latency bound ms, FPS floor: RT-DNAS' 50 ms and 22
    FPS) judge the ordinary validation; or ``run(arch, ProtocolOptions) -> ProtocolResult`` (a
    callable or ``"module:function"``; ``latbench.deploy.protocols``: ST-NAS' FPS, the dynamic
    cells' per-frame time) times frames instead; ``space``: the architectures' space (None: any)."""

    name: str
    help: str
    limits: tuple[float | None, float | None] | None = None
    run: Callable[..., Any] | str | None = None
    space: str | None = None

    def check_space(self, arch: Architecture) -> None:
        """``LatbenchError`` when ``arch`` is not of the protocol's space."""
        if self.space is not None and arch.space != self.space:
            raise LatbenchError(
                f"protocol {self.name} needs a {self.space} architecture "
                f"(e.g. {self.space}:0), got one of {arch.space!r}"
            )

    def runner(self) -> Callable[..., Any]:
        """The frame protocol's function (imported on first use)."""
        if callable(self.run):
            return self.run
        try:
            return pkgutil.resolve_name(str(self.run))
        except (ImportError, AttributeError, ValueError) as exc:
            raise LatbenchError(
                f"protocol {self.name!r}: cannot import {self.run!r} ({type(exc).__name__}: {exc})"
            ) from None


_PROTOCOLS: Registry[Protocol] = Registry("protocol")


def register_protocol(
    name: str,
    *,
    help: str,
    limits: tuple[float | None, float | None] | None = None,
    run: Callable[..., Any] | str | None = None,
    space: str | None = None,
) -> Protocol:
    """Register ``latbench validate --protocol name``: exactly one of ``limits`` and ``run``.
    ``ValueError`` when both or neither are given or ``name`` is taken."""
    if (limits is None) == (run is None):
        raise ValueError(f"protocol {name!r}: give limits or run, not both or neither")
    _PROTOCOLS.add(name, Protocol(name, help, limits, run, space))
    return _PROTOCOLS[name]


def list_protocols() -> list[Protocol]:
    """Every registered protocol (plugins loaded first), by name."""
    return [_PROTOCOLS[name] for name in _PROTOCOLS.names()]


def get_protocol(name: str) -> Protocol:
    """The registered protocol ``name``; ``UnknownNameError`` listing the valid names."""
    return _PROTOCOLS.lookup(name)
