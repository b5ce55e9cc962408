"""Plugins: a user's space with two op kinds, profiled, fitted and searched through
``python -m latbench`` with no file of latbench touched, made visible each documented way
(an installed entry point, ``LATBENCH_PLUGINS``, ``--plugin``); the loader's order, its one-line
errors, and ``--plugin`` wherever it stands on the command line."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from latbench import plugin_loader as plugins
from latbench.cli.commands import split_plugins
from latbench.errors import LatbenchError

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "docs" / "examples" / "toy.py"
FAST = ["--threads", "1", "--budget-ms", "2", "--warmup-ms", "1", "--item-timeout", "0"]


def _latbench(
    args: list[str],
    cwd: Path,
    pythonpath: list[Path] = (),
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in (plugins.ENV, "LATBENCH_HOME")}
    clean["PYTHONPATH"] = os.pathsep.join(map(str, [REPO, *pythonpath]))
    clean["LATBENCH_HOME"] = str(cwd / "home")
    return subprocess.run(
        [sys.executable, "-m", "latbench", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _install(site: Path, package: str, source: str, entry: str) -> None:
    """``package`` with ``source`` as its ``__init__.py`` and a dist-info declaring ``entry``
    in group ``latbench.plugins``, on a folder that goes on PYTHONPATH (what pip would write)."""
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text(source, encoding="utf-8")
    info = site / f"{package}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[latbench.plugins]\n{entry}\n", encoding="utf-8")


def test_docs_show_the_toy_plugin_that_ships():
    doc = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    assert block == TOY.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_user_space_is_profiled_fitted_and_searched_each_documented_way(tmp_path):
    before = _git_status()
    source = TOY.read_text(encoding="utf-8")
    site, work = tmp_path / "site", tmp_path / "work"
    work.mkdir()
    _install(site, "latbench_toy", source, "toy = latbench_toy")
    (work / "toy.py").write_text(source, encoding="utf-8")

    # installed entry point: no option at all
    out = _ok(_latbench(["profile", "toy", *FAST, "--table", "ops.csv"], work, [site]))
    assert "measured 3" in out
    # LATBENCH_PLUGINS (a path, relative to the working folder)
    _ok(_latbench(["fit", "ops.csv", "-o", "ops.json"], work, env={plugins.ENV: "toy.py"}))
    # --plugin after the command
    out = _ok(
        _latbench(
            [
                "search",
                "mixed-op",
                "--space",
                "toy",
                "--predictor",
                "ops.json",
                "--steps",
                "5",
                "--plugin",
                "toy.py",
                "--out",
                "chosen",
            ],
            work,
        )
    )
    chosen = re.search(r"chosen genotype (\S+): predicted latency_ms (\S+)", out)
    assert chosen, out
    genotype, latency_ms = chosen.group(1), float(chosen.group(2))
    written = json.loads((work / "chosen" / "mixed-op-lam0.5.json").read_text())
    assert written["space"] == "toy" and written["genotype"] == genotype  # what validate reads
    assert all(n in ("conv3", "conv5", "mlp4") for n in genotype.split(","))
    assert len(genotype.split(",")) == 3 and math.isfinite(latency_ms) and latency_ms > 0
    assert not re.search(r"\b(nan|inf)\b", out, re.I)
    assert _git_status() == before  # nothing of latbench touched or written


@pytest.mark.slow
@pytest.mark.parametrize("command", [["spaces"], ["search", "--help"]])
def test_a_broken_plugin_is_one_line_naming_it(tmp_path, command):
    """Also where the parser itself asks the registries (``search --help`` lists plugins')."""
    (tmp_path / "broken.py").write_text("raise RuntimeError('no GPU here')\n", encoding="utf-8")
    proc = _latbench(["--plugin", "broken.py", *command], tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"latbench: error: plugin '{tmp_path / 'broken.py'}' failed to load: RuntimeError: "
        "no GPU here"
    ]


def test_plugin_options_are_taken_out_wherever_they_stand():
    argv = ["--plugin", "a.py", "profile", "toy", "--plugin=b", "--threads", "1", "--plugin"]
    assert split_plugins(argv) == (["a.py", "b"], ["profile", "toy", "--threads", "1", "--plugin"])
    assert split_plugins(["fit", "--", "--plugin", "x"]) == ([], ["fit", "--", "--plugin", "x"])


def test_plugins_reach_the_environment_once_and_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(plugins.ENV, f"first{os.pathsep}second.mod")
    assert plugins.add_to_environment(["toy.py", "first", "toy.py"]) == [
        "first",
        "second.mod",
        str(tmp_path / "toy.py"),
    ]
    assert plugins.plugin_list() == ["first", "second.mod", str(tmp_path / "toy.py")]


def test_a_failing_plugin_is_one_plugin_error(tmp_path):
    plugins.load_plugins()  # the built-in 'conv' first
    path = tmp_path / "twice.py"
    path.write_text(
        "from latbench.plugins import register_op\nregister_op('conv')(lambda spec: None)\n",
        encoding="utf-8",
    )
    with pytest.raises(LatbenchError) as err:
        plugins._load_one(str(path), str(path))
    assert str(err.value) == (
        f"plugin '{path}' failed to load: ValueError: op kind 'conv' is registered twice"
    )
    with pytest.raises(plugins.PluginError, match="ModuleNotFoundError: No module named"):
        plugins._load_one("no_such_plugin_module", "no_such_plugin_module")


def test_the_papers_are_the_first_plugin_loaded():
    from latbench.spaces import list_spaces

    assert "msnas" in list_spaces()
    assert plugins.load_plugins()[0] == plugins.BUILTIN
    assert 'papers = "latbench.builtin"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")


def test_a_plugin_named_later_in_the_process_is_loaded(tmp_path, monkeypatch):
    from latbench.cli import main

    plugins.load_plugins()
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from pathlib import Path\nPath(__file__).with_suffix('.loaded').write_text('1')\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(plugins.ENV, os.environ.get(plugins.ENV, ""))  # restored afterwards
    assert main(["spaces", "no-such-space*", "--plugin", str(probe)]) == 0
    assert (tmp_path / "probe.loaded").read_text() == "1"
    assert str(probe) in plugins.load_plugins()


def test_entry_points_are_sorted_by_name_and_callables_are_called(tmp_path, monkeypatch):
    _install(
        tmp_path,
        "lbt_probe_b",
        "def register():\n    raise RuntimeError('boom')\n",
        "a = lbt_probe_b:register",
    )
    _install(
        tmp_path,
        "lbt_probe_a",
        "CALLED = []\ndef register():\n    CALLED.append(1)\n",
        "b = lbt_probe_a:register",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    ours = [(label, ep) for label, ep in plugins._entry_points() if "lbt_probe" in label]
    assert [label for label, _ in ours] == ["lbt_probe_b:register", "lbt_probe_a:register"]
    with pytest.raises(plugins.PluginError) as err:
        plugins._load_one(*ours[0])
    assert str(err.value) == "plugin 'lbt_probe_b:register' failed to load: RuntimeError: boom"
    plugins._load_one(*ours[1])
    assert __import__("lbt_probe_a").CALLED == [1]


def test_a_loaded_plugin_is_trusted_by_op_keys(tmp_path):
    from latbench.trust import is_trusted

    path = tmp_path / "helpers.py"
    path.write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    plugins.load_plugins()
    plugins._load_one(str(path), str(path))
    module = next(m for m in sys.modules if m.startswith("latbench_plugin_helpers_"))
    assert is_trusted(f"{module}.double") and not is_trusted("latbench_plugin_other.double")


def test_a_plugin_that_changes_directory_does_not_move_the_outputs(tmp_path, monkeypatch):
    """As a --model file (tests/latbench/models/test_decompose.py): relative --out and
    ./latbench-tables resolved in the plugin's chosen folder."""
    (tmp_path / "elsewhere").mkdir()
    path = tmp_path / "moves.py"
    path.write_text(f"import os\nos.chdir({str(tmp_path / 'elsewhere')!r})\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    plugins._load_one(str(path), str(path))
    assert Path.cwd() == tmp_path


def test_a_plugin_that_exits_is_one_plugin_error(tmp_path):
    """A script with a module-level sys.exit (or argparse): latbench exited with its code and
    printed nothing."""
    path = tmp_path / "exits.py"
    path.write_text("import sys\nsys.exit(5)\n", encoding="utf-8")
    with pytest.raises(
        LatbenchError, match=r"exits.py' failed to load: its code called sys.exit\(5\)"
    ):
        plugins._load_one(str(path), str(path))
