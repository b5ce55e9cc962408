"""Terminal output of the commands: consoles, progress bar, tables; rich loads on first print."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

console: Console
err_console: Console
PIPE_WIDTH = 200


def __getattr__(name: str) -> Console:
    """``console`` (stdout) and ``err_console`` (stderr), made on first use; markup off (paths
    and keys hold [brackets]). To a file or a pipe with no ``COLUMNS`` set, lines fold at
    ``PIPE_WIDTH``, not at rich's 80 columns: logs keep paths and table rows whole."""
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in globals():
        from rich.console import Console

        out = Console(stderr=name == "err_console", markup=False)
        if not out.is_terminal and "COLUMNS" not in os.environ:
            out.width = PIPE_WIDTH
        globals()[name] = out
    return globals()[name]


def progress_bar() -> Progress:
    """A progress bar with count, elapsed time and ETA, drawn on stderr."""
    from rich import progress  # measuring only: parsers (--help) stay cheap

    return progress.Progress(
        progress.TextColumn("[bold]{task.description}"),
        progress.BarColumn(),
        progress.MofNCompleteColumn(),
        progress.TextColumn("{task.fields[status]}"),
        progress.TimeElapsedColumn(),
        progress.TextColumn("ETA"),
        progress.TimeRemainingColumn(),
        console=__getattr__("err_console"),
    )


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    __getattr__("console").print(table)
