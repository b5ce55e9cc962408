"""One folder per paper: each paper's space (with its sampler and layout), search and protocol
are defined in ``latbench/papers/<paper>/`` and registered by its ``plugin.py`` through the
public API; the command line holds no list of papers or protocols of its own."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from latbench.nas.searches import list_searches
from latbench.protocol_registry import list_protocols
from latbench.spaces import get_space

REPO = Path(__file__).resolve().parents[3]
FOLDERS = {
    "stnas": ({"stnas-encoder", "stnas-decoder"}, {"stnas"}, {"stnas"}),
    "rtdnas": ({"msnas"}, {"rtdnas", "ga"}, {"rtdnas"}),
    "cakes": ({"cakes"}, {"cakes"}, set()),
    "hypersegnas": ({"dints"}, {"hypersegnas", "memory-filter"}, set()),
    "dyncell": ({"dyncell"}, set(), {"dyncell"}),
}
"""paper folder -> (its spaces, its searches, its protocols)."""


def _module(obj: object) -> str:
    return obj.__module__ if callable(obj) else str(obj).partition(":")[0]


@pytest.mark.parametrize("paper", FOLDERS)
def test_everything_of_a_paper_is_in_its_folder(paper):
    spaces, searches, protocols = FOLDERS[paper]
    folder = f"latbench.papers.{paper}."
    for name in spaces:
        space = get_space(name)
        pieces = [space.build_ops, space.sampler, space.build_layout]
        assert all(_module(p).startswith(folder) for p in pieces if p is not None), name
    entries = {e.name: e for e in list_searches()}
    for name in searches:
        assert _module(entries[name].target).startswith(folder), name
    registered = {p.name: p for p in list_protocols()}
    for name in protocols:
        run = registered[name].run
        assert run is None or _module(run).startswith(folder), name


def test_the_papers_register_through_the_public_plugin_api():
    for paper in FOLDERS:
        source = (REPO / "latbench" / "papers" / paper / "plugin.py").read_text(encoding="utf-8")
        assert "from latbench.plugins import" in source, paper
    builtin = (REPO / "latbench" / "builtin.py").read_text(encoding="utf-8")
    assert all(f"latbench.papers.{p} import plugin" in builtin for p in FOLDERS)


def test_the_command_line_keeps_no_list_of_papers_or_protocols():
    from latbench.cli import search, validate

    assert not hasattr(search, "PAPERS")
    for gone in ("latbench.cli.search_runs", "latbench.choices", "latbench.deploy.paper_protocols"):
        assert importlib.util.find_spec(gone) is None, gone
    assert not {"rtdnas", "stnas", "cakes", "hypersegnas", "dyncell"} & set(vars(validate))
    paper_modules = {"msnas", "cakes", "dints", "dyncell", "stnas_encoder", "stnas_decoder"}
    for layer in ("spaces", "archs"):
        assert not {p.stem for p in (REPO / "latbench" / layer).glob("*.py")} & paper_modules
