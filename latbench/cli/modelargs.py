"""``--model`` / ``--input-shape`` / ``--leaf``: the one way every command names a user's model
(``profile``, ``measure-nets``, ``predict``, ``validate``, ``memory``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from latbench.cli import ui
from latbench.errors import LatbenchError

if TYPE_CHECKING:  # the parsers import no torch
    from latbench.archs import Architecture

MODELS_TABLE = "models"
"""Table stem of ops and networks measured from ``--model``s, one table for all models."""


def add_model_args(p: argparse.ArgumentParser, *, model_flag: bool = True) -> None:
    """``--model SPEC`` (repeatable; left out where the positional argument names the
    model), ``--input-shape``, ``--leaf``."""
    if model_flag:
        p.add_argument(
            "--model",
            action="append",
            metavar="SPEC",
            help="a network of your own: timm:NAME, torchvision:NAME, package.module:callable or "
            "path/to/file.py:callable (a callable returning an nn.Module; random weights, nothing "
            "downloaded); repeatable",
        )
    p.add_argument(
        "--input-shape",
        metavar="N,C,H,W",
        help="input shape of --model (default: the library's own, e.g. timm's "
        "pretrained_cfg input_size with batch 1)",
    )
    p.add_argument(
        "--leaf",
        action="append",
        default=[],
        metavar="CLASS",
        help="treat submodules of this class as one op (repeatable; for code torch.fx cannot "
        "trace)",
    )


def model_architectures(args: argparse.Namespace) -> list[Architecture]:
    """The ``--model``s traced (within ``--item-timeout`` where given) as Architectures; one
    line each."""
    from latbench.cli.measuring import item_timeout_s
    from latbench.models import model_architecture, trace_model

    specs = args.model if isinstance(args.model, list) else [args.model]
    timeout_s = item_timeout_s(args)
    archs = []
    unused = set(args.leaf)
    for spec in specs:
        decomposition = trace_model(spec, args.input_shape, leaf=args.leaf, timeout_s=timeout_s)
        unused &= set(decomposition.unused_leaf)
        arch = model_architecture(decomposition)
        archs.append(arch)
        ui.console.print(
            f"{spec} at {model_size(arch)}: {len(arch.edges)} ops ({len(set(arch.ops()))} "
            f"distinct), {decomposition.n_params / 1e6:.2f} M params",
            highlight=False,
        )
    if unused:  # a typo, or the model's own class: tracing would have ignored it
        raise LatbenchError(
            f"--leaf {', '.join(sorted(unused))}: no submodule of {', '.join(specs)} has that "
            "class (the model's own class cannot be one op: its forward is always traced)"
        )
    return archs


def models_or_target(
    args: argparse.Namespace, target: str | None, what: str = "a SPACE"
) -> list[Architecture] | None:
    """The traced ``--model``s, or None where the positional ``target`` names what to measure
    (``--input-shape`` / ``--leaf`` then refused); one line unless exactly one is given."""
    if (target is None) == (args.model is None):
        raise LatbenchError(f"give {what} or --model SPEC (one of them)")
    if target is not None:
        refuse_model_args(args, target)
        return None
    return model_architectures(args)


def refuse_model_args(args: argparse.Namespace, what: str) -> None:
    """One line for ``--input-shape`` / ``--leaf`` where ``what`` (a space, an architecture
    file) is measured, not a model of the user's."""
    given = [f for f, v in (("--input-shape", args.input_shape), ("--leaf", args.leaf)) if v]
    if given:
        raise LatbenchError(
            f"{' and '.join(given)} shape and split a model of your own (--model SPEC); "
            f"{what} has its own shapes (see --size)"
        )


def model_label(arch: Architecture) -> str:
    """``SPEC@NxCxHxW``: how outputs name a traced model."""
    return f"{arch.meta.get('model', arch.name)}@{model_size(arch)}"


def model_size(arch: Architecture) -> str:
    """The traced model's input shape as ``NxCxHxW``."""
    return "x".join(map(str, arch.input_shape))
