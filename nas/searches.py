"""Searches by name for ``latbench search NAME``: the papers' (their folders' ``plugin.py``),
``mixed-op`` (``latbench.builtin``) and plugins'. Two kinds, as docs/plugins.md says: a plain
search ``search(model, space, size, lam, steps, seed, progress)`` returning ``runs`` and
``genotype(run)`` (``latbench.nas.choices.search``), or a command (``spaces=`` given)
``run(args, models, progress) -> SearchReport``. ``target`` may be ``"module:function"``.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from latbench.architecture import Architecture
from latbench.errors import PLUGIN_HINT, LatbenchError
from latbench.plugin_loader import load_plugins


@dataclass(frozen=True)
class Table:
    """A table of a report: its title, column names and rows."""

    title: str
    columns: list[str]
    rows: list[tuple[Any, ...]]


@dataclass
class SearchReport:
    """What a search shows, in order: lines (plain text) and tables; and the networks it
    chose, by name (``latbench search --out DIR`` writes each as ``DIR/NAME.json``, an
    ``Architecture`` file that ``latbench validate`` reads)."""

    items: list[str | Table] = field(default_factory=list)
    architectures: dict[str, Architecture] = field(default_factory=dict)

    def line(self, text: str) -> None:
        self.items.append(text)

    def table(self, title: str, columns: list[str], rows: Sequence[tuple[Any, ...]]) -> None:
        self.items.append(Table(title, columns, list(rows)))

    def runs(self, title: str, outcomes: Sequence[Any], fmt: Callable[[Any], str]) -> None:
        """One row per run (λ, choice, predicted latency, final task loss); with two runs or
        more, a line comparing the last run's latency with the first's (λ = 0)."""
        self.table(
            title,
            ["λ", "choice", "predicted latency (ms)", "final task loss"],
            [
                (o.lam, fmt(o), o.latency_ms, "-" if o.task_loss is None else o.task_loss)
                for o in outcomes
            ],
        )
        if len(outcomes) < 2:
            return
        base, reg = outcomes[0], outcomes[-1]
        verdict = "cheaper" if reg.latency_ms < base.latency_ms else "NOT cheaper"
        self.line(
            f"λ={reg.lam:g} choice is {verdict} than λ=0: {reg.latency_ms:.4g} ms vs "
            f"{base.latency_ms:.4g} ms (predicted)"
        )


@dataclass(frozen=True)
class SearchEntry:
    """A registered search (``register_search``'s arguments)."""

    name: str
    target: Callable[..., Any] | str
    space: str | None = None
    default_lambda: float = 0.5
    help: str = ""
    spaces: tuple[str, ...] = ()
    costs: str = "latency"

    def function(self) -> Callable[..., Any]:
        if callable(self.target):
            return self.target
        try:
            return pkgutil.resolve_name(self.target)
        except (ImportError, AttributeError, ValueError) as exc:
            raise LatbenchError(
                f"search {self.name!r}: cannot import {self.target!r} ({type(exc).__name__}: {exc})"
            ) from None

    def run(self, args: Any, models: list[Any], progress: Any) -> SearchReport:
        """Run the search on the parsed options ``args`` (``lam``, ``size``, ``steps``,
        ``seed``; a command reads its own) and the cost ``models`` of its spaces."""
        if self.spaces:
            return self.function()(args, models, progress)
        space = args.space or self.space
        lam = self.default_lambda if args.lam is None else args.lam
        out = self.function()(models[0], space, args.size, lam, args.steps, args.seed, progress)
        runs = list(out.runs)
        if not runs:
            raise LatbenchError(f"search {self.name} on {space}: no run")
        report = SearchReport()
        if getattr(out, "note", ""):
            report.line(out.note)
        report.runs(f"{self.name} on {space} ({args.size})", runs, out.genotype)
        report.line(
            f"chosen genotype {out.genotype(runs[-1])}: predicted latency_ms "
            f"{runs[-1].latency_ms:.4g}"
        )
        if hasattr(out, "architecture"):  # a search whose choices build networks
            for run in runs:
                report.architectures[f"{self.name}-lam{run.lam:g}"] = out.architecture(run)
        return report


_SEARCHES: dict[str, SearchEntry] = {}


def register_search(
    name: str,
    target: Callable[..., Any] | str | None = None,
    *,
    space: str | None = None,
    default_lambda: float = 0.5,
    help: str = "",
    spaces: Sequence[str] = (),
    costs: str = "latency",
) -> Any:
    """Register search ``name`` (``target`` None: as a decorator): ``space`` searched (None:
    ``--space`` names it), ``help`` its line in ``latbench search --help``; ``spaces`` makes it
    a command with ``costs`` (module doc). ``ValueError`` when ``name`` is taken or ``costs``
    is neither ``latency`` nor ``memory``."""
    if costs not in ("latency", "memory"):
        raise ValueError(f"search {name!r}: costs {costs!r} is neither 'latency' nor 'memory'")

    def add(fn: Callable[..., Any] | str) -> Callable[..., Any] | str:
        if name in _SEARCHES:
            raise ValueError(f"search {name!r} is registered twice")
        _SEARCHES[name] = SearchEntry(name, fn, space, default_lambda, help, tuple(spaces), costs)
        return fn

    return add if target is None else add(target)


def list_searches() -> list[SearchEntry]:
    """Every registered search (plugins loaded first), by name."""
    load_plugins()
    return sorted(_SEARCHES.values(), key=lambda e: e.name)


def get_search(name: str) -> SearchEntry:
    """The registered search ``name`` (plugins loaded first); ``LatbenchError`` listing the
    valid names."""
    valid = {e.name: e for e in list_searches()}
    if name not in valid:
        raise LatbenchError(f"unknown search {name!r}; valid: {', '.join(valid)}{PLUGIN_HINT}")
    return valid[name]
