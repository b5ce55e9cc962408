"""Layers flow one way (op catalogue -> measurement -> tables -> predictors -> searches): a
test that walks the import graph.

Each module of ``latbench``, ``latbench.predictors`` (folder ``predictors/``) and
``latbench.nas`` (folder ``nas/``) gets a layer; a module may import its
own layer and those below, never one above (imports inside functions count too):

0 foundation   latbench.errors, latbench.jsonio (strict file reading), latbench.atomic
               (whole-file writes), latbench.papers (the papers' constants)
1 catalogue    latbench (package), ops, opspec, features, spaces, archs, and latbench.tables
               (file format: schemas, crash-safe rows; rows checked by the catalogue's own
               parsers, OpSpec.from_key and Architecture.from_json, whatever was imported)
2 measurement  timing, device, timed (what gets timed), memory (measuring, tracing), deploy
3 tables       tablerun (the one measure-into-table mechanism) and its table kinds:
               profile (ops), netprofile (networks), memory.table / memory.terms (memory),
               fleet (the same tables measured by Ray workers), importing (networks tables of
               published measurements)
4 predictors
5 nas, latbench.papers.<paper> (one folder per paper: its space, search, protocol and
               registration; a plugin) and latbench.builtin (latbench's own plugin: it loads
               the papers and registers the catalogue's kinds; the registries load it by name)
6 CLI          latbench.cli, latbench.__main__ (may import everything)
Nothing imports ``latbench.cli`` except the CLI itself and ``latbench.__main__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FOLDERS = {"latbench": "latbench", "predictors": "latbench.predictors", "nas": "latbench.nas"}
"""source folder -> the package name it installs as (pyproject's package-dir)."""

LAYERS: list[tuple[int, tuple[str, ...]]] = [  # most specific prefix wins
    (
        0,
        (
            "latbench.errors",
            "latbench.notfitted",
            "latbench.jsonio",
            "latbench.papers",
            "latbench.atomic",
        ),
    ),
    (
        1,
        (
            "latbench",
            "latbench.ops",
            "latbench.opspec",
            "latbench.features",
            "latbench.spaces",
            "latbench.archs",
            "latbench.tables",
        ),
    ),
    (
        2,
        (
            "latbench.timing",
            "latbench.device",
            "latbench.timed",
            "latbench.memory",
            "latbench.deploy",
        ),
    ),
    (
        3,
        (
            "latbench.tablerun",
            "latbench.profile",
            "latbench.netprofile",
            "latbench.memory.table",
            "latbench.memory.terms",
            "latbench.fleet",
            "latbench.importing",
            "latbench.importing_timm",
        ),
    ),
    (4, ("latbench.predictors",)),
    (5, ("latbench.nas", "latbench.builtin", "latbench.plugins")),
    (6, ("latbench.cli", "latbench.__main__")),
]

KNOWN_UPWARD: dict[tuple[str, str], str] = {}
"""(importer, imported): reason, for an upward import awaiting its fix (none now)."""


def layer_of(module: str) -> int:
    parts = module.split(".")
    if parts[:2] == ["latbench", "papers"] and len(parts) > 2:
        return 5  # a paper's folder (a plugin); the package itself holds the numbers
    best, depth = None, -1
    for rank, prefixes in LAYERS:
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and p.count(".") > depth:
                best, depth = rank, p.count(".")
    assert best is not None, f"{module} has no layer; add it to LAYERS"
    return best


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    parts = FOLDERS[parts[0]].split(".") + parts[1:]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_edges() -> set[tuple[str, str]]:
    """(importer, imported) for every absolute import of our packages in their sources."""
    edges = set()
    for folder in FOLDERS:
        for path in (REPO / folder).rglob("*.py"):
            mod = _module_name(path)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module]
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                    else []
                )
                edges.update((mod, n) for n in names if n.split(".")[0] == "latbench")
    return edges


def upward(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    bad = {(a, b) for a, b in edges if layer_of(b) > layer_of(a)}
    cli = {
        (a, b)
        for a, b in edges
        if (b == "latbench.cli" or b.startswith("latbench.cli.")) and layer_of(a) != 6
    }
    return bad | cli


def test_the_walker_sees_imports_inside_functions_and_ranks_them():
    edges = import_edges()
    assert ("latbench.profile", "latbench.tablerun.driver") in edges
    assert ("latbench.__main__", "latbench.cli") in edges
    assert upward({("latbench.timing.cpu", "latbench.predictors.lookup")}) == {
        ("latbench.timing.cpu", "latbench.predictors.lookup")
    }
    assert upward({("latbench.predictors.lookup", "latbench.cli.ui")})  # nothing imports the CLI
    assert not upward({("latbench.cli.fit", "latbench.predictors.lookup")})


def test_no_import_goes_up_a_layer():
    found = upward(import_edges()) - set(KNOWN_UPWARD)
    assert not found, "upward imports:\n" + "\n".join(f"{a} -> {b}" for a, b in sorted(found))
