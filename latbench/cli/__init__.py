"""The ``latbench`` command. Each subcommand lives in its own module under ``latbench.cli``
and exposes ``register(subparsers)``, which adds its parser and sets ``func(args) -> int``.

Start-up cost: ``COMMANDS`` is a static table (name -> one-line help), so ``latbench --help``
imports no subcommand module (and no torch); ``latbench CMD ...`` imports only CMD's module.
A test checks that each module registers the help this table shows.
"""

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
from functools import partial

from latbench import __version__
from latbench.errors import LatbenchError, Terminated, decode_error_line, os_error_line

# Subcommands in the order `latbench --help` lists them, with their one-line help.
COMMANDS: dict[str, str] = {
    "devices": "list measurable devices and their fingerprints",
    "spaces": "list search spaces and their op counts",
    "ops": "list op kinds and their hyper-parameters",
    "profile": "measure every op of a search space into a table",
    "show": "print a table's device, protocol and rows",
    "measure-nets": "measure sampled whole networks of a space (checks predictions)",
    "import-nets": "import whole-network latencies measured elsewhere (HELP, HW-NAS-Bench, "
    "BRP-NAS files) as networks tables",
    "validate": "export an architecture and check it on torch/ORT/TRT",
    "doctor": "which TensorRT / onnxruntime-gpu / torch fit this GPU",
    "fit": "fit a latency predictor and save it as JSON",
    "predict": "predict op or network latency with a saved predictor",
    "evaluate": "accuracy of a predictor on held-out whole networks",
    "search": "run a paper's predictor-guided search (CPU-sized)",
    "memory": "measure or predict training-time memory",
}
_OWN_PACKAGES = ("latbench", "latbench.nas", "latbench.predictors")


def module_name(command: str) -> str:
    return f"latbench.cli.{command.replace('-', '_')}"


def build_parser(load: Iterator[str] | tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """The top-level parser; subcommands in ``load`` (default: all) are registered by their
    modules, the others are one-line placeholders (enough for ``latbench --help``)."""
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
    # options must be spelt out on every command: argparse would otherwise take ``--n 50`` for
    # ``--n-paths 50`` without a word
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        parser_class=partial(argparse.ArgumentParser, allow_abbrev=False),
    )
    wanted = set(COMMANDS if load is None else load)
    for name, help_text in COMMANDS.items():
        if name in wanted:
            importlib.import_module(module_name(name)).register(sub)
            command = sub.choices[name]
            command.description = plain_text(command.description)
        else:
            sub.add_parser(name, help=help_text)
    for command in (parser, *(sub.choices[n] for n in wanted if n in sub.choices)):
        command.add_argument(PLUGIN_OPTION, action="append", metavar="MODULE", help=PLUGIN_HELP)
    return parser


PLUGIN_OPTION = "--plugin"
PLUGIN_HELP = (
    "load a plugin (a module name or a path to a .py file) that registers op kinds, "
    "spaces, ... before the command runs; repeatable, anywhere on the line; also "
    "read from LATBENCH_PLUGINS (see docs/plugins.md)"
)


def split_plugins(argv: list[str]) -> tuple[list[str], list[str]]:
    """``--plugin X`` / ``--plugin=X`` taken out of ``argv``, wherever they stand: (the X's, the
    rest). They are read before parsing so that child processes inherit them
    (``latbench.plugins.add_to_environment``); a trailing ``--plugin`` without a value stays
    for argparse to report. Nothing after ``--`` is looked at."""
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
    """A docstring as terminal text: ``code`` without the backticks, %% as % (descriptions
    shown raw are not %-formatted by argparse)."""
    if text is None:
        return None
    return re.sub(r"``(.+?)``", r"\1", text).replace("%%", "%")


def _chosen(argv: list[str]) -> tuple[str, ...]:
    """The subcommand named in ``argv`` (first word that is one), if any."""
    return tuple(a for a in argv if a in COMMANDS)[:1]


def _is_ours(category: type[Warning], filename: str) -> bool:
    """A warning latbench itself raised (its own packages), not torch's or numpy's."""
    if (getattr(category, "__module__", "") or "").split(".")[0] == "latbench":
        return True
    path = os.path.abspath(filename)
    return any(path.startswith(root + os.sep) for root in _own_roots())


def _own_roots() -> list[str]:
    """Folders of latbench's packages (found, not imported)."""
    import importlib.util

    roots = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    for name in _OWN_PACKAGES[1:]:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            roots.append(os.path.dirname(os.path.abspath(spec.origin)))
    return roots


@contextlib.contextmanager
def _latbench_warnings() -> Iterator[None]:
    """Print latbench's own warnings as one 'latbench: warning:' line while a command runs;
    every other warning keeps Python's format. Python's default handler only: a handler
    someone else installed (pytest's recorder) is left alone. Restored on exit."""
    original = warnings.showwarning
    impl = getattr(warnings, "_showwarnmsg_impl", None)
    if (
        original is not getattr(warnings, "_showwarning_orig", original)
        or getattr(impl, "__module__", "warnings") != "warnings"
    ):  # a recorder is active
        yield
        return

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        if _is_ours(category, filename):
            print(f"latbench: warning: {message}", file=file or sys.stderr)
        else:
            original(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


def _terminate(signum, frame) -> None:  # noqa: ANN001
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn a ``LatbenchError`` into a one-line message.

    Measuring commands run from the command line (``argv`` None) measure in a worker process
    (``latbench.tablerun.worker``), called from Python in this one; SIGTERM is handled like
    Ctrl-C (exit 143). ``--plugin X`` (any position) is added to
    ``LATBENCH_PLUGINS`` first, so the measuring worker and every Ray worker load the same
    plugins.
    """
    from_command_line = argv is None
    plugins, argv = split_plugins(sys.argv[1:] if argv is None else list(argv))
    if plugins:
        from latbench.plugins import add_to_environment

        add_to_environment(plugins)  # every worker process inherits them
    parser = build_parser(_chosen(argv))
    args = parser.parse_args(argv)
    args.in_worker = from_command_line
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave SIGTERM alone
        previous = None
    try:
        with _latbench_warnings():
            return int(args.func(args) or 0)
    except LatbenchError as exc:
        print(f"latbench: error: {exc}", file=sys.stderr)
        return 2
    except Terminated:
        print("latbench: terminated (SIGTERM); every row written so far is kept", file=sys.stderr)
        return 143
    except OSError as exc:  # disk full, read-only filesystem, dangling symlink, loop, ...
        print(f"latbench: error: {os_error_line(exc)}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:  # loaders name the file; this is the last resort
        print(f"latbench: error: {decode_error_line(exc, 'input')}", file=sys.stderr)
        return 2
    except RecursionError:
        print("latbench: error: input nested too deeply to process", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("latbench: interrupted; every row written so far is kept", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
