"""The ``latbench`` command. Each subcommand lives in its own module under ``latbench.cli``
and exposes ``register(subparsers)``, which adds its parser and sets ``func(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import warnings

from latbench.errors import LatbenchError, Terminated

# Subcommand modules, in the order `latbench --help` lists them.
COMMANDS = ("devices", "spaces", "ops", "profile", "show", "measure-nets", "import-nets",
            "validate", "doctor", "fit", "predict", "evaluate", "search", "memory")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="latbench",
        description="Measure per-op latency and memory on a device, fit predictors, run "
                    "predictor-guided NAS and validate deployed models.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"latbench.cli.{name.replace('-', '_')}").register(sub)
    return parser


def _warning_line(message, category, filename, lineno, file=None, line=None) -> str:  # noqa: ANN001
    return f"latbench: warning: {message}\n"


def _terminate(signum, frame) -> None:  # noqa: ANN001
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn a ``LatbenchError`` into a one-line message.

    Measuring commands run from the command line are supervised (``latbench.cli.supervise``);
    SIGTERM is handled like Ctrl-C (exit 143).
    """
    from latbench.cli import supervise

    if argv is None and supervise.wanted(sys.argv[1:]):
        return supervise.supervise()
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.formatwarning = _warning_line
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave SIGTERM alone
        previous = None
    try:
        return int(args.func(args) or 0)
    except LatbenchError as exc:
        print(f"latbench: error: {exc}", file=sys.stderr)
        return 2
    except Terminated:
        print("latbench: terminated (SIGTERM); every row written so far is kept",
              file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("latbench: interrupted; every row written so far is kept", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
