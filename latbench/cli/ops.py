"""``latbench ops``: the registered op kinds, their inputs and hyper-parameters."""

from __future__ import annotations

import argparse

from latbench.cli import ui


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ops", help="list op kinds and their hyper-parameters")
    p.add_argument("kinds", nargs="*", help="kind names or globs (default: all)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latbench.ops import get_op_kind, list_op_kinds

    names: list[str] = []
    for pattern in args.kinds or ["*"]:
        names += list_op_kinds(pattern)  # a plain name must exist; a glob may match none
    rows = []
    for name in dict.fromkeys(names):
        kind = get_op_kind(name)
        params = ", ".join(f"{k}={v!r}" for k, v in kind.defaults.items()) or "-"
        rows.append((name, kind.n_inputs, "/".join(map(str, kind.ranks)), params, kind.doc))
    ui.print_table("op kinds", ["kind", "inputs", "ranks", "parameters (defaults)", "what"], rows)
    return 0
