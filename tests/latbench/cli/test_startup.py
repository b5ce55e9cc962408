"""`latbench --help` imports no subcommand and no torch; the static command table matches what
each module registers; help texts are clean; only latbench's own warnings are reformatted."""

from __future__ import annotations

import argparse
import subprocess
import sys
import warnings

import pytest

from latbench import cli


def test_top_level_help_imports_no_subcommand_and_no_torch():
    code = (
        "import sys; from latbench.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in sys.modules if m in ('torch', 'sklearn')"
        " or m.startswith('latbench.cli.')"
        " and m != 'latbench.cli.__init__']\nprint(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    "command",
    [
        "profile",
        "memory",
        "measure-nets",
        "fit",
        "evaluate",
        "predict",
        "import-nets",
        "devices",
        "spaces",
        "ops",
        "validate",
        "show",
    ],
)
def test_measuring_commands_build_their_parsers_without_torch_or_pandas(command):
    """`latbench profile --help` used to import pandas and torch (~3 s of CPU) to list options;
    the option vocabularies live in latbench.choices, the rest is imported when a command runs."""
    code = (
        "import sys; from latbench.cli import main\n"
        f"try:\n    main([{command!r}, '--help'])\nexcept SystemExit:\n    pass\n"
        "print([m for m in ('torch', 'pandas') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "usage: latbench" in out and out.strip().splitlines()[-1] == "[]"


def test_search_builds_its_parser_without_torch():
    """`latbench search --help` lists every registered search (the papers', plugins'), so it
    loads the plugins; building the parser (any other `latbench search ...` line before it
    runs, docs/cli.md) imports neither torch nor pandas."""
    code = (
        "import sys; from latbench.cli import build_parser\n"
        "build_parser(['search']).parse_args(['search', 'x'])\n"
        "print([m for m in ('torch', 'pandas') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_option_vocabularies_are_the_ones_the_code_uses():
    from latbench import importing
    from latbench.choices import CLOCK_CHOICES, DISCONNECTED, OPTIMIZERS, PERS, SIZES, UNITS
    from latbench.memory.steps import OPTIMIZERS as STEPS_OPTIMIZERS
    from latbench.spaces import SIZES as SPACE_SIZES
    from latbench.timing.cpu import CLOCKS

    assert CLOCK_CHOICES == ("auto", *CLOCKS) and SIZES == SPACE_SIZES
    assert OPTIMIZERS == STEPS_OPTIMIZERS
    assert (importing.UNITS, importing.PERS, importing.DISCONNECTED) == (UNITS, PERS, DISCONNECTED)
    from latbench import choices
    from latbench.deploy import export, runners

    assert (runners.BACKENDS, export.DEFAULT_OPSET) == (choices.BACKENDS, choices.DEFAULT_OPSET)


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def test_static_table_matches_the_registered_help():
    full = _subparsers(cli.build_parser())
    registered = {a.dest: a.help for a in full._choices_actions}
    assert registered == cli.COMMANDS
    assert list(full.choices) == list(cli.COMMANDS)


def test_help_texts_are_clean_and_every_option_is_explained():
    full = _subparsers(cli.build_parser())
    for name, parser in full.choices.items():
        text = parser.format_help()
        assert "%%" not in text and "``" not in text, name
        for action in parser._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"{name} {action.option_strings} has no help"


def test_only_latbench_warnings_are_reformatted():
    code = (
        "import warnings\nfrom latbench import cli\nwarnings.simplefilter('always')\n"
        "with cli._latbench_warnings():\n"
        "    warnings.warn_explicit('ours', UserWarning, cli.__file__, 1)\n"
        "    warnings.warn_explicit('theirs', UserWarning, '/v/site-packages/torch/y.py', 2)\n"
        "assert warnings.formatwarning is warnings._formatwarning_orig\n"
        "assert warnings.showwarning is warnings._showwarning_orig\n"
    )
    err = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stderr
    assert "latbench: warning: ours" in err
    assert "latbench: warning: theirs" not in err and "UserWarning: theirs" in err


def test_main_leaves_pytests_warning_capture_alone():
    with pytest.warns(UserWarning, match="recorded"):
        with cli._latbench_warnings():
            warnings.warn_explicit("recorded", UserWarning, cli.__file__, 1)
