"""latbench's modules import at the top and form no import cycle: a test that builds the module
import graph of ``latbench``, ``latbench.predictors`` (``predictors/``) and ``latbench.nas``
(``nas/``) from their sources.

An import of ``a.b.c`` depends on ``a.b.c`` and on the packages ``a.b`` (their ``__init__`` runs
first), except the ones the importer is itself inside. Laziness is the CLI's alone: a command
module's ``run()`` imports the implementation; a library module imports inside a function only
for an optional dependency or a reason listed in ``FUNCTION_LEVEL``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FOLDERS = {"latbench": "latbench", "predictors": "latbench.predictors", "nas": "latbench.nas"}

FUNCTION_LEVEL: dict[tuple[str, str], str] = {
    ("latbench", "latbench.opspec"): "latbench.OpSpec (PEP 562): `import latbench` stays light",
    ("latbench.device", "pynvml"): "no NVML library or driver means no NVML",
    ("latbench.fleet.cluster", "ray.util.scheduling_strategies"): "optional (extra ray)",
    ("latbench.fleet.pool", "joblib"): "reported as missing when absent",
    ("latbench.model_loader", "torchvision"): "optional (extra models)",
    ("latbench.predictors.report", "matplotlib.backends.backend_agg"): "only when plotting",
    ("latbench.predictors.report", "matplotlib.figure"): "only when plotting",
    ("latbench.predictors.report", "matplotlib.ticker"): "only when plotting",
}
"""(module, imported) imported inside a function, with the reason it cannot be at the top."""


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in FOLDERS.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = [*package.split("."), *path.relative_to(REPO / folder).with_suffix("").parts]
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(tree: ast.AST) -> Iterator[tuple[bool, list[str]]]:
    """(inside a function, the modules it names) for each absolute import, leaving
    out those under ``if TYPE_CHECKING:``."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[bool, list[str]]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                yield in_function, [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                names = [f"{child.module}.{a.name}" for a in child.names]
                yield in_function, [child.module, *names]
            yield from walk(child, in_function or isinstance(child, ast.FunctionDef))

    yield from walk(tree, False)


def _is_cli(module: str) -> bool:
    """The lazy seam: the CLI, and each paper's ``command`` module (its part of ``latbench
    search``, loaded when the command runs)."""
    return (
        module.startswith("latbench.cli")
        or module == "latbench.__main__"
        or (module.startswith("latbench.papers.") and module.endswith(".command"))
    )


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]], set[tuple[str, str]]]:
    """(all edges, top-level edges, (module, imported) imported inside functions)."""
    modules = _modules()
    every: dict[str, set[str]] = {m: set() for m in modules}
    top: dict[str, set[str]] = {m: set() for m in modules}
    inside = set()
    for mod, path in modules.items():
        for in_function, names in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            ours = [n for n in names if n in modules]
            named = [n for n in ours if n != names[0]] or ours[:1]  # `from pkg import submodule`
            if in_function and not _is_cli(mod):
                inside.add((mod, names[0] if not named else named[0]))
            for target in named:
                parts = target.split(".")
                for k in range(2, len(parts) + 1):
                    dep = ".".join(parts[:k])
                    if dep in modules and dep != mod and not mod.startswith(dep + "."):
                        every[mod].add(dep)
                        if not in_function:
                            top[mod].add(dep)
    return every, top, inside


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_finder_sees_a_cycle_through_a_package_init():
    graph = {"a": {"b.x"}, "b": {"b.y"}, "b.x": {"b"}, "b.y": {"a"}}
    assert cycles(graph) == [{"a", "b", "b.x", "b.y"}]
    every, _, inside = import_graph()
    assert "latbench.timing" in every["latbench.timed"]  # the package of latbench.timing.*
    assert ("latbench.fleet.cluster", "ray.util.scheduling_strategies") in inside


def test_top_level_imports_form_no_cycle():
    assert cycles(import_graph()[1]) == []


def test_no_import_cycle_even_through_function_level_imports():
    assert cycles(import_graph()[0]) == []


def test_library_modules_import_at_the_top():
    """A function-level import in a library module is an optional dependency (or a reason
    listed in FUNCTION_LEVEL); the CLI's command modules are the one lazy seam."""
    inside = import_graph()[2]
    assert inside - set(FUNCTION_LEVEL) == set(), "import these at the top (or list a reason)"
    assert set(FUNCTION_LEVEL) - inside == set(), "gone: remove them from FUNCTION_LEVEL"
