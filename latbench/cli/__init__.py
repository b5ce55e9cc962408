"""The ``latbench`` command (console script ``latbench.cli:main``, ``python -m latbench``).

This module is the entry point and stays tiny: Ctrl-C while the command's modules are still
importing gives the usual one-line message (exit 130), not a traceback. The parser and the
dispatch are in ``latbench.cli.commands``; each subcommand lives in its own module
(``latbench.cli.<command>``) with ``register(subparsers)`` and a ``run(args)`` that imports the
implementation.
"""

import sys

INTERRUPTED = "latbench: interrupted; every row written so far is kept"


def main(argv: list[str] | None = None) -> int:
    """Run ``latbench`` with ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    try:
        from latbench.cli.commands import dispatch

        return dispatch(argv)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
