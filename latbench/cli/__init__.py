"""The ``latbench`` command. Each subcommand lives in its own module under ``latbench.cli``
and exposes ``register(subparsers)``, which adds its parser and sets ``func(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from latbench.errors import LatbenchError, decode_error_line, os_error_line

# Subcommand modules, in the order `latbench --help` lists them.
COMMANDS = ("devices", "spaces", "ops", "profile", "show", "measure-nets", "validate", "doctor",
            "fit", "predict", "evaluate", "search", "memory")


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


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn a ``LatbenchError`` into a one-line message."""
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.formatwarning = _warning_line
    try:
        return int(args.func(args) or 0)
    except LatbenchError as exc:
        print(f"latbench: error: {exc}", file=sys.stderr)
        return 2
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


if __name__ == "__main__":
    sys.exit(main())
