"""The ``latbench`` parser and dispatch. Each subcommand's module ``latbench.cli.<command>``
has ``register(subparsers)``, importing only argparse and the CLI's small modules, and sets
``func`` to its ``run(args)``, which imports the implementation: ``--help`` imports no torch."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import signal
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from latbench import __version__
from latbench.cli import stopped_line
from latbench.errors import LatbenchError, Terminated, decode_error_line, os_error_line

COMMANDS = tuple(
    "devices spaces ops profile show measure-nets import-nets validate doctor fit predict "
    "evaluate search memory".split()
)
"""Subcommands in the order ``latbench --help`` lists them (module: ``module_name``)."""
_PACKAGE = Path(__file__).resolve().parents[1]
_OWN_ROOTS = tuple(
    str(folder.resolve()) + os.sep
    for folder in (_PACKAGE, _PACKAGE / "nas", _PACKAGE / "predictors")
)
"""Folders of latbench's sources (``nas`` and ``predictors`` are links in a checkout)."""


def module_name(command: str) -> str:
    return f"latbench.cli.{command.replace('-', '_')}"


def build_parser(commands: tuple[str, ...] = COMMANDS) -> argparse.ArgumentParser:
    """The top-level parser with ``commands`` (default: all), each registered by its module."""
    parser = argparse.ArgumentParser(
        prog="latbench",
        allow_abbrev=False,
        description="Measure per-op latency and memory on a device, fit predictors, run "
        "predictor-guided NAS and validate deployed models. "
        "`latbench COMMAND --help` explains each command.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"latbench {__version__}",
        help="print latbench's version and exit",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in commands:
        importlib.import_module(module_name(name)).register(sub)
        command = sub.choices[name]
        command.description = plain_text(command.description)
        command.allow_abbrev = False  # else `--n 50` would be taken for `--n-paths 50`
    for command in (parser, *sub.choices.values()):
        command.add_argument(PLUGIN_OPTION, action="append", metavar="MODULE", help=PLUGIN_HELP)
    return parser


PLUGIN_OPTION = "--plugin"
PLUGIN_HELP = (
    "load a plugin (a module name or a path to a .py file) that registers op kinds, "
    "spaces, ... before the command runs; repeatable, anywhere on the line; also "
    "read from LATBENCH_PLUGINS (see docs/plugins.md)"
)


def split_plugins(argv: list[str]) -> tuple[list[str], list[str]]:
    """``--plugin X`` / ``--plugin=X`` taken out of ``argv`` before parsing, wherever they
    stand before ``--``: (the X's, the rest). A trailing ``--plugin`` stays for argparse."""
    plugins, rest, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg.startswith(PLUGIN_OPTION + "="):
            plugins.append(arg.split("=", 1)[1])
        elif arg == PLUGIN_OPTION and i + 1 < len(argv):
            plugins.append(argv[i + 1])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return plugins, rest


def plain_text(text: str | None) -> str | None:
    """A docstring as terminal text: ``code`` without the backticks, %% as % (argparse does
    not %-format a raw description)."""
    if text is None:
        return None
    return re.sub(r"``(.+?)``", r"\1", text).replace("%%", "%")


def _is_ours(category: type[Warning], filename: str) -> bool:
    """A warning latbench itself raised (its own packages), not torch's or numpy's."""
    if (getattr(category, "__module__", "") or "").split(".")[0] == "latbench":
        return True
    path = str(Path(filename).resolve())
    return any(path.startswith(root) for root in _OWN_ROOTS)


@contextlib.contextmanager
def _latbench_warnings() -> Iterator[None]:
    """While a command runs, each warning shown is one line, shown once: latbench's own as
    'latbench: warning: MESSAGE', a library's as 'PLACE:LINE: Category: MESSAGE' (PLACE: its
    path under site-packages). Only ``warnings.formatwarning`` changes: recorders get all."""
    original = warnings.formatwarning
    shown: set[str] = set()

    def format_warning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        line: str | None = None,
    ) -> str:
        text = " ".join(str(message).split())
        if _is_ours(category, filename):
            text = f"latbench: warning: {text}\n"
        else:
            place = filename.replace(os.sep, "/").rpartition("site-packages/")[2]
            text = f"{place}:{lineno}: {category.__name__}: {text}\n"
        if text in shown:
            return ""
        shown.add(text)
        return text

    warnings.formatwarning = format_warning
    try:
        yield
    finally:
        warnings.formatwarning = original


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def dispatch(argv: list[str] | None = None) -> int:
    """Parse, dispatch, and turn a ``LatbenchError`` into a one-line message (exit 2).

    Run from the command line (``argv`` None), measuring commands measure in a worker process
    (``latbench.tablerun.worker``); SIGTERM is handled like Ctrl-C (exit 143). ``--plugin X``
    goes into ``LATBENCH_PLUGINS`` first, so that every worker loads the same plugins."""
    from_command_line = argv is None
    plugins, argv = split_plugins(sys.argv[1:] if argv is None else list(argv))
    if plugins:
        from latbench.plugin_loader import add_to_environment

        add_to_environment(plugins)
    chosen = next((a for a in argv if a in COMMANDS), None)  # only its module is imported
    try:  # a parser may ask the registries (search --help lists plugins' searches)
        args = build_parser((chosen,) if chosen else COMMANDS).parse_args(argv)
    except LatbenchError as exc:
        print(f"latbench: error: {exc}", file=sys.stderr)
        return 2
    args.in_worker = from_command_line
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave SIGTERM alone
        previous = None
    try:
        with _latbench_warnings():
            return int(args.func(args) or 0)
    except Terminated as exc:
        print(stopped_line("latbench: terminated (SIGTERM)", exc), file=sys.stderr)
        return 143
    except (LatbenchError, OSError, UnicodeDecodeError, RecursionError) as exc:
        line = str(exc)
        if isinstance(exc, OSError):  # disk full, read-only filesystem, dangling symlink, ...
            line = os_error_line(exc)
        elif isinstance(exc, UnicodeDecodeError):  # loaders name the file; the last resort
            line = decode_error_line(exc, "input")
        elif isinstance(exc, RecursionError):
            line = "input nested too deeply to process"
        print(f"latbench: error: {line}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
