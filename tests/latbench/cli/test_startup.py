"""`latbench --help` and `latbench CMD --help` import no torch; each command module registers its
command; option vocabularies come from the code that owns them; help texts are clean; only
latbench's own warnings are reformatted; Ctrl-C while the CLI starts is one line."""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import time
import warnings

import pytest

from latbench.cli import commands as cli
from latbench.cli.argtypes import OneOf


def test_top_level_help_imports_no_torch_and_is_fast():
    """`latbench --help` builds every subcommand's parser: the modules' tops are light."""
    code = (
        "import sys, time; t = time.perf_counter(); from latbench.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(time.perf_counter() - t)\n"
        "print([m for m in ('torch', 'pandas', 'numpy', 'sklearn', 'rich') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[-1] == "[]"
    assert float(out[-2]) < 3.0  # ~0.1 s idle; torch alone takes longer than this bound


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
    option vocabularies are checked when a value is parsed (OneOf), the rest is imported when a
    command runs."""
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
        "import sys; from latbench.cli.commands import build_parser\n"
        "build_parser(['search']).parse_args(['search', 'x'])\n"
        "print([m for m in ('torch', 'pandas') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_a_command_imports_only_its_own_module():
    code = (
        "import sys; from latbench.cli import main\n"
        "try:\n    main(['spaces', '--help'])\nexcept SystemExit:\n    pass\n"
        "from latbench.cli.commands import COMMANDS, module_name\n"
        "print([c for c in COMMANDS if module_name(c) in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "['spaces']"


def test_option_vocabularies_are_read_from_the_code_that_uses_them():
    """Options naming a vocabulary (``OneOf``) check values against the module that owns it,
    imported when a value is parsed: every such option resolves to a non-empty vocabulary."""
    from latbench.cli.argtypes import OneOf

    kinds = set()
    for parser in [cli.build_parser(), *_subparsers(cli.build_parser()).choices.values()]:
        for action in parser._actions:
            if isinstance(action.type, OneOf):
                kinds.add(action.type)
    assert len(kinds) >= 9
    for kind in kinds:
        values = kind.values()
        assert values and kind(values[0]) == values[0]
        with pytest.raises(argparse.ArgumentTypeError, match="choose from"):
            kind("no-such-name")


def test_a_value_outside_the_vocabulary_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(["fit", "t.csv", "-o", "p.json", "--calibration", "x"])
    assert exc.value.code == 2
    assert "argument --calibration: invalid choice: 'x' (choose from affine" in (
        capsys.readouterr().err
    )


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def test_every_command_module_registers_its_command_with_a_help_line():
    full = _subparsers(cli.build_parser())
    assert list(full.choices) == list(cli.COMMANDS)
    assert all(a.help for a in full._choices_actions)


def test_help_texts_are_clean_and_every_option_is_explained():
    full = _subparsers(cli.build_parser())
    for name, parser in full.choices.items():
        text = parser.format_help()
        assert "%%" not in text and "``" not in text, name
        for action in parser._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"{name} {action.option_strings} has no help"


def test_warnings_are_one_line_each_and_only_latbench_s_say_latbench():
    code = (
        "import warnings\nfrom latbench.cli import commands as cli\n"
        "warnings.simplefilter('always')\nbefore = warnings.formatwarning\n"
        "with cli._latbench_warnings():\n"
        "    warnings.warn_explicit('ours', UserWarning, cli.__file__, 1)\n"
        "    warnings.warn_explicit('theirs', UserWarning, '/v/site-packages/torch/y.py', 2)\n"
        "    warnings.warn_explicit('theirs', UserWarning, '/v/site-packages/torch/y.py', 2)\n"
        "    import latbench, os\n"
        "    link = os.path.join(os.path.dirname(latbench.__file__), 'predictors', 'x.py')\n"
        "    warnings.warn_explicit('links', UserWarning, os.path.realpath(link), 3)\n"
        "assert warnings.formatwarning is before\n"
    )
    err = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stderr
    assert "latbench: warning: ours" in err
    assert "latbench: warning: theirs" not in err
    # a library's warning: one line without its source line, and a repeat is not shown
    assert err.count("torch/y.py:2: UserWarning: theirs\n") == 1 and "site-packages" not in err
    assert "latbench: warning: links" in err  # predictors/ through the link latbench/predictors


def test_main_leaves_pytests_warning_capture_alone():
    with pytest.warns(UserWarning, match="recorded"):
        with cli._latbench_warnings():
            warnings.warn_explicit("recorded", UserWarning, cli.__file__, 1)


@pytest.mark.slow
def test_ctrl_c_while_the_cli_starts_is_one_line_not_a_traceback(tmp_path):
    """SIGINT while ``python -m latbench`` imports the CLI and the command ends with the one-line
    message and exit 130. The delays count from ``import latbench`` being done: before it,
    Python itself is starting (a SIGINT during ``site`` is Python's own "Fatal Python error").
    Rarely (once in CI under load, not in 27 tries here) the signal lands while an extension's
    pybind11 code runs Python: the KeyboardInterrupt reaches C++ and it calls std::terminate
    (SIGABRT), as under Python's own handler; that one outcome is let through."""
    start = (
        "import runpy, latbench; print(flush=True); "
        "runpy.run_module('latbench', run_name='__main__')"
    )
    codes = []
    for delay in (0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8):
        proc = subprocess.Popen(
            [sys.executable, "-c", start, "show", str(tmp_path / "none.csv")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # a shell's background job inherits SIGINT ignored; the child should see Ctrl-C
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        assert proc.stdout is not None
        proc.stdout.readline()
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=60)[1]
        if proc.returncode == -signal.SIGABRT and "pybind11::error_already_set" in err:
            continue  # an extension's C++ initialisation took the KeyboardInterrupt: its abort
        assert "Traceback" not in err, (delay, err)
        if proc.returncode != 2:  # not done yet when the signal came
            assert proc.returncode == 130, (delay, proc.returncode, err)
            assert err.strip().splitlines()[-1].startswith("latbench: interrupted"), err
        codes.append(proc.returncode)
    assert 130 in codes  # some signal came while importing (show takes > 0.8 s to start)


def test_every_option_with_a_vocabulary_names_each_choice_in_its_help():
    """``OneOf`` options list no choices themselves (the vocabulary's module is imported only
    when a value is parsed): their help text must name every choice."""
    full = _subparsers(cli.build_parser())
    for name, parser in full.choices.items():
        for action in parser._actions:
            if isinstance(action.type, OneOf):
                missing = [
                    v
                    for v in action.type.values()
                    if not re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", action.help or "")
                ]
                assert not missing, f"{name} {action.option_strings[0]}: {missing} not in help"


@pytest.mark.parametrize(
    "argv, error",
    [
        (
            ["--backend", "torch,nope"],
            "argument --backend: invalid choice: 'nope' (choose from torch",
        ),
        (["--encoder-depths", "1,x"], "argument --encoder-depths: 'x' is not an integer"),
        (["--encoder-depths", "1,0"], "argument --encoder-depths: 0 must be at least 1"),
    ],
)
def test_comma_separated_options_check_each_item(argv, error, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(["validate", "a.json", *argv])
    assert exc.value.code == 2 and error in capsys.readouterr().err


def test_comma_separated_options_parse_to_tuples():
    args = cli.build_parser().parse_args(
        ["validate", "a.json", "--backend", "torch, ort", "--encoder-depths", "1,2,3,2"]
    )
    assert args.backend == ("torch", "ort") and args.encoder_depths == (1, 2, 3, 2)
