"""The ``latbench`` command. The entry point stays tiny, so Ctrl-C while the command's modules
still import is one line (exit 130); parser and dispatch: ``latbench.cli.commands``."""

import signal
import sys
import threading
from types import FrameType


def stopped_line(head: str, exc: BaseException) -> str:
    """The one line of a run stopped by Ctrl-C or SIGTERM: ``head``, and when a table was being
    written (the notes ``latbench.tablerun`` adds: its rows and path), that they are kept."""
    notes = getattr(exc, "__notes__", [])
    return "; ".join([head, "every row written so far is kept", *notes] if notes else [head])


def main(argv: list[str] | None = None) -> int:
    """Run ``latbench`` with ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    came: list[int] = []  # a library's C code may turn Ctrl-C into another error

    def interrupt(signum: int, frame: FrameType | None) -> None:
        came.append(signum)
        raise KeyboardInterrupt

    previous = None
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous = signal.signal(signal.SIGINT, interrupt)  # not where SIGINT is ignored
    try:
        from latbench.cli.commands import dispatch

        return dispatch(argv)
    except KeyboardInterrupt as exc:  # tablerun's note names the table being written
        print(stopped_line("latbench: interrupted", exc), file=sys.stderr)
        return 130
    except Exception:
        if not came:  # e.g. numpy's import makes it an ImportError
            raise
        print("latbench: interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
