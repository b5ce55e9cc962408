"""``latbench spaces``: the registered search spaces and their op counts."""

from __future__ import annotations

import argparse

from latbench.cli import ui


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("spaces", help="list search spaces and their op counts")
    p.add_argument("pattern", nargs="?", default="*", help="glob over space names")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latbench.spaces import SIZES, get_space, list_spaces

    rows = []
    for name in list_spaces(args.pattern):
        space = get_space(name)
        rows.append((name, *(len(space.ops(size)) for size in SIZES), space.paper))
    ui.print_table("search spaces", ["space", *(f"ops ({s})" for s in SIZES), "paper"], rows)
    return 0
