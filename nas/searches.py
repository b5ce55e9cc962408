"""Searches by name for ``latbench search NAME``, beside the papers' own (whose command-line
reports are bespoke, ``latbench.cli.search.PAPERS``): ``mixed-op`` (``latbench.builtin``) and
any a plugin registers with ``register_search``.

A registered search is ``search(model, space, size, lam, steps, seed, progress)`` returning an
object with ``runs`` (``latbench.nas.synthetic.Outcome`` list, λ = 0 first where there is one),
``genotype(run) -> str`` and optionally ``note`` (one line printed before the table), as
``latbench.nas.choices.search`` does. ``model`` is an op latency ``CostModel`` (ms) from
``--predictor``; ``space`` the one space it searches (``--space``, or the registration's);
``progress(label, done, total)`` may be None. This module imports nothing heavy: ``target``
may be ``"module:function"``, imported when the search runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from latbench.errors import PLUGIN_HINT, LatbenchError
from latbench.plugin_loader import load_plugins


@dataclass(frozen=True)
class SearchEntry:
    """A registered search: its function (or ``"module:function"``), the space it searches
    (None: ``--space`` names it) and its default λ."""

    name: str
    target: Callable[..., Any] | str
    space: str | None = None
    default_lambda: float = 0.5

    def function(self) -> Callable[..., Any]:
        if callable(self.target):
            return self.target
        module, _, attr = self.target.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise LatbenchError(
                f"search {self.name!r}: cannot import {self.target!r} ({type(exc).__name__}: {exc})"
            ) from None


_SEARCHES: dict[str, SearchEntry] = {}


def register_search(
    name: str,
    target: Callable[..., Any] | str | None = None,
    *,
    space: str | None = None,
    default_lambda: float = 0.5,
) -> Any:
    """Register search ``name``: ``register_search(name, "module:function", ...)``, or as a
    decorator ``@register_search(name, space="toy")``. ``ValueError`` when ``name`` is taken."""

    def add(fn: Callable[..., Any] | str) -> Callable[..., Any] | str:
        if name in _SEARCHES:
            raise ValueError(f"search {name!r} is registered twice")
        _SEARCHES[name] = SearchEntry(name, fn, space, float(default_lambda))
        return fn

    return add if target is None else add(target)


def get_search(name: str, papers: tuple[str, ...] = ()) -> SearchEntry:
    """The registered search ``name`` (plugins loaded first); ``LatbenchError`` listing the
    valid names, ``papers`` (the papers' searches) included."""

    load_plugins()
    if name not in _SEARCHES:
        valid = ", ".join(sorted({*papers, *_SEARCHES}))
        raise LatbenchError(f"unknown search {name!r}; valid: {valid}{PLUGIN_HINT}")
    return _SEARCHES[name]
