"""The ``latbench`` command (console script ``latbench.cli:main``, ``python -m latbench``).

The entry point stays tiny, so Ctrl-C while the command's modules still import gives the usual
one-line message (exit 130), not a traceback; parser and dispatch: ``latbench.cli.commands``.
"""

import sys


def stopped_line(head: str, exc: BaseException) -> str:
    """The one line of a run stopped by Ctrl-C or SIGTERM: ``head``, and when a table was being
    written (the notes ``latbench.tablerun`` adds: its rows and path), that they are kept."""
    notes = getattr(exc, "__notes__", [])
    return "; ".join([head, "every row written so far is kept", *notes] if notes else [head])


def main(argv: list[str] | None = None) -> int:
    """Run ``latbench`` with ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    try:
        from latbench.cli.commands import dispatch

        return dispatch(argv)
    except KeyboardInterrupt as exc:  # tablerun's note names the table being written
        print(stopped_line("latbench: interrupted", exc), file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
