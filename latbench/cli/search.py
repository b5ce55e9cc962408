"""``latbench search NAME``: a registered search on CPU-sized synthetic data, with costs from a
saved predictor: each paper's (``latbench/papers/<paper>/``: stnas, rtdnas, ga, cakes,
hypersegnas), ``mixed-op --space NAME`` (the expected-latency regulariser on any space with a
ChoiceLayout, ``nas/choices.py``) or a plugin's (docs/plugins.md). ``latbench search --help``
lists them all, plugins' included.

The normal way in is ``--predictor P.json`` (``latbench fit``; for ST-NAS one per space,
encoder then decoder, or one covering both). Without it, a lookup predictor is fitted on the
device's tables (``latbench profile``'s default path, else the committed reference tables of
the device); a missing table is an error naming the command that makes it, unless
``--profile-missing`` asks to run that command here.
``memory-filter`` is another name for ``hypersegnas``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from latbench import papers
from latbench.cli import argtypes, ui
from latbench.cli.measuring import add_ray_args, table_arg
from latbench.errors import LatbenchError


class _ListSearches(argparse._HelpAction):
    """``--help`` that also lists every registered search, plugins' included (loaded only
    when asked)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from textwrap import wrap

        from latbench.nas.searches import list_searches

        rows = [
            f"  {e.name:<14} " + ("\n" + " " * 17).join(wrap(e.help, 80)) for e in list_searches()
        ]
        parser.epilog = "searches:\n" + "\n".join(rows)
        parser.print_help()
        parser.exit()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search",
        help="run a paper's predictor-guided search (CPU-sized)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    p.add_argument(
        "-h", "--help", action=_ListSearches, help="show this help (with every search) and exit"
    )
    p.add_argument(
        "which",
        metavar="SEARCH",
        help="a registered search: a paper's, mixed-op (any space with a ChoiceLayout, "
        "--space), or a plugin's (`latbench search --help` lists them)",
    )
    p.add_argument(
        "--predictor",
        type=Path,
        action="append",
        help="saved predictor JSON (latency: `latbench fit`; hypersegnas: `latbench "
        "fit --kind memory`); stnas: once per space, encoder then decoder",
    )
    p.add_argument(
        "--table",
        type=Path,
        action="append",
        help="latency table(s) to fit a lookup predictor on instead",
    )
    p.add_argument(
        "--profile-missing",
        action="store_true",
        help="profile a missing default table first, as `latbench profile` does",
    )
    p.add_argument(
        "--space",
        help="mixed-op and plugins' searches: the space to search (mixed-op: any "
        "with a ChoiceLayout, e.g. a plugin's; see docs/plugins.md)",
    )
    p.add_argument(
        "--size",
        type=argtypes.SIZE,
        help="small or paper (default: the searched space's own, small for these)",
    )
    p.add_argument("--lam", type=argtypes.nonnegative_float, help="regulariser weight (λ)")
    p.add_argument(
        "--steps", type=argtypes.positive_int, default=20, help="architecture-parameter steps"
    )
    p.add_argument("--seed", type=argtypes.rng_seed, default=0, help="random seed of the search")
    p.add_argument("--beta", choices=("params", "latency"), default="latency", help="CAKES β")
    p.add_argument(
        "--n-paths", type=argtypes.positive_int, default=3, help="GA: paths per individual (N_l)"
    )
    p.add_argument(
        "--upper-ms",
        type=argtypes.positive_float,
        help=f"RT-DNAS/GA latency bound (GA default {papers.RTDNAS_LATENCY_UB_MS:g})",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="folder to write the searched networks to, one Architecture JSON each "
        "(stnas, mixed-op: per λ run; hypersegnas: the top 10 kept), for `latbench validate`",
    )
    p.add_argument(
        "--min-fps",
        type=argtypes.nonnegative_float,
        default=papers.RTDNAS_MIN_FPS,
        help=f"RT-DNAS/GA throughput floor, judged as 1000 / latency at batch 1 (default "
        f"{papers.RTDNAS_MIN_FPS:g}: it binds at {1000 / papers.RTDNAS_MIN_FPS:.2f} ms, below "
        "the 50 ms bound; 0: the latency bound alone, as the paper's search does)",
    )
    p.add_argument(
        "--target-mib",
        type=argtypes.positive_float,
        default=papers.DINTS_TARGETS_MIB[0],
        help="hypersegnas: training-memory target (default: DiNTS' 5067 MiB)",
    )
    p.add_argument(
        "--band-mib",
        type=argtypes.positive_float,
        default=papers.HYPERSEGNAS_BAND_MIB,
        help="hypersegnas: keep architectures within ± this of the target, MiB",
    )
    p.add_argument(
        "-n",
        type=argtypes.positive_int,
        default=papers.HYPERSEGNAS_SAMPLES,
        help="hypersegnas: architectures sampled (paper: 2000)",
    )
    p.add_argument(
        "--confirm",
        type=argtypes.nonnegative_int,
        default=0,
        metavar="N",
        help="hypersegnas: measure the top N kept networks on --device into the "
        "memory table (the paper fine-tunes the top 10)",
    )
    p.add_argument("--device", default="cpu", help="hypersegnas --confirm: cpu or cuda[:N]")
    p.add_argument(
        "--memory-table",
        type=table_arg("latbench.memory"),
        help="hypersegnas --confirm: memory table to append to (default: memory-dints-<size>.csv "
        "of the device under the tables home, where `latbench memory` writes)",
    )
    p.add_argument(
        "--jobs",
        type=argtypes.positive_int,
        default=2,
        metavar="N",
        help="hypersegnas: local processes for the screen's full traces (default 2)",
    )
    add_ray_args(
        p,
        "hypersegnas: run the screen's full traces as Ray tasks on the cluster at ADDRESS "
        "(`auto`: the one `ray start` made here; no value: a local Ray; needs `pip install "
        "'latbench[ray]'`)",
    )
    p.add_argument(
        "--threads",
        type=argtypes.positive_int,
        default=1,
        help="torch CPU threads of the search, and of the default tables it reads (default 1: the "
        "committed tables; more threads on a shared machine can be 10× slower)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from latbench.nas.searches import get_search
    from latbench.predictors.base import MissingOpsError
    from latbench.spaces import get_space

    torch.set_num_threads(args.threads)
    entry = get_search(args.which)
    if entry.spaces and args.space is not None:
        raise LatbenchError(
            f"--space is for `search mixed-op` and plugins' searches; {entry.name} "
            "searches its paper's space(s)"
        )
    spaces = entry.spaces or tuple(filter(None, [args.space or entry.space]))
    if not spaces:
        raise LatbenchError(
            f"search {entry.name} needs --space NAME (`latbench spaces` lists them; a plugin's "
            "space: docs/plugins.md)"
        )
    args.size = args.size or get_space(spaces[0]).default_size
    given = {"--table": args.table, "--profile-missing": args.profile_missing}
    unread = [option for option, value in given.items() if value]
    if unread and (args.predictor or entry.costs == "memory"):
        costs = "a memory --predictor" if entry.costs == "memory" else "--predictor"
        raise LatbenchError(
            f"{' and '.join(unread)}: a lookup predictor of latency tables, used only without "
            f"--predictor; {entry.name} takes its costs from {costs} here"
        )
    models = [_memory_model(args)] if entry.costs == "memory" else cost_models(args, spaces)
    with ui.progress_bar() as bar:  # one bar per label of the search's Progress callback
        tasks: dict[str, Any] = {}

        def report(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total, status="")
            bar.update(tasks[label], completed=done, total=total)

        try:
            out = entry.run(args, models, report)
        except MissingOpsError as exc:
            raise LatbenchError(f"{exc}{_fitted_elsewhere(args, models, spaces)}") from None
    for item in out.items:
        if isinstance(item, str):
            ui.console.print(item, soft_wrap=True)  # a command line stays one line
        else:
            ui.print_table(item.title, item.columns, item.rows)
    if args.out is not None:
        _write_architectures(args.out, out.architectures, entry.name)
    return 0


def _write_architectures(folder: Path, archs: dict[str, Any], search: str) -> None:
    """Each chosen network as ``folder/NAME.json``, or one line saying that there is none."""
    from latbench.atomic import write_atomically
    from latbench.paths import output_dir

    if not archs:
        ui.console.print(f"--out: search {search} gives no architecture to write")
        return
    out = output_dir(folder)
    for name, arch in archs.items():
        write_atomically(out / f"{name}.json", arch.to_json() + "\n")
    names = ", ".join(f"{name}.json" for name in archs)
    ui.console.print(f"{len(archs)} architecture(s) in {out}: {names} (latbench validate FILE)")


def _fitted_elsewhere(args: argparse.Namespace, models: list, spaces: tuple[str, ...]) -> str:
    """``; P.json was fitted on tables of SPACE (SIZES)`` for each --predictor whose tables
    hold none of ``spaces``: why its ops are missing."""
    out = ""
    for path, model in zip(args.predictor or [], models):
        sizes = getattr(model, "info_", {}).get("sizes") or {}
        if sizes and not set(spaces) & set(sizes):
            fitted = ", ".join(f"{space} ({'/'.join(s)})" for space, s in sizes.items())
            out += f"; {path} was fitted on tables of {fitted}, not of {', '.join(spaces)}"
    return out


def _load(path: Path, unit: str, level: str, fit: str, need: str) -> Any:
    """The predictor at ``path``; one line when there is none (naming ``fit``, the command
    writing one) or when it does not predict ``level``s in ``unit`` (``need``)."""
    from latbench.predictors.base import input_level
    from latbench.predictors.persist import PredictorFileError, load

    try:
        model = load(path)
    except PredictorFileError:
        if not path.is_file():
            raise LatbenchError(f"{path}: no such predictor file; fit one with {fit}") from None
        raise
    if getattr(model, "unit", None) != unit or input_level(model) != level:
        raise LatbenchError(
            f"{path} holds a {type(model).__name__} ({getattr(model, 'unit', '?')}, "
            f"{input_level(model)} level); {need}"
        )
    return model


def _memory_model(args: argparse.Namespace) -> Any:
    """The training-memory predictor of ``--predictor``."""
    if not args.predictor:
        raise LatbenchError(
            f"{args.which} needs --predictor P.json, a training-memory predictor: `latbench memory "
            "dints --n 8` measures a table, `latbench fit --kind memory TABLE -o P.json` fits it"
        )
    need = (
        "it does not predict architectures' memory (predict(archs) -> MiB); fit one with "
        "`latbench fit --kind memory`"
    )
    return _load(
        args.predictor[0], "MiB", "network", "`latbench fit --kind memory TABLE -o P.json`", need
    )


def cost_models(args: argparse.Namespace, spaces: tuple[str, ...]) -> list:
    """One latency cost model per space of the search (the same object where one covers all)."""
    if not args.predictor:
        return [lookup_model(args.table or default_tables(args, spaces))] * len(spaces)
    if len(args.predictor) not in (1, len(spaces)):
        raise LatbenchError(
            f"{len(args.predictor)} --predictor files for the {len(spaces)} space(s) "
            f"{', '.join(spaces)}: give one, or one per space in that order"
        )
    need = "this search needs an op latency predictor (`latbench fit TABLE`, without --networks)"
    fit = "`latbench fit TABLE -o P.json`"
    models = [_load(path, "ms", "op", fit, need) for path in args.predictor]
    ui.console.print(f"costs: {', '.join(map(str, args.predictor))}")
    return models * len(spaces) if len(models) == 1 else models


def default_tables(args: argparse.Namespace, spaces: tuple[str, ...]) -> list[Path]:
    """The device's default tables of ``spaces``; missing ones are profiled with
    ``--profile-missing``, else named in the error."""
    from latbench.cli import profile
    from latbench.device import fingerprint
    from latbench.tablerun.paths import REFERENCE_DIR, default_table_path

    slug = fingerprint("cpu", threads=args.threads)["slug"]
    paths = []
    for name in spaces:
        path = default_table_path(slug, f"{name}-{args.size}")
        reference = REFERENCE_DIR / slug / path.name
        paths.append(path if path.exists() or not reference.exists() else reference)
        if paths[-1].exists():
            continue
        command = ["profile", name, "--size", args.size, "--threads", str(args.threads)]
        if not args.profile_missing:
            raise LatbenchError(
                f"no latency table {path}; run `latbench {' '.join(command)}` (then `latbench fit` "
                "it and pass --predictor), or add --profile-missing"
            )
        ui.console.print(f"no table {path}: running `latbench {' '.join(command)}`")
        parser = argparse.ArgumentParser(prog="latbench")
        profile.register(parser.add_subparsers())
        profile.run(parser.parse_args(command))
    return paths


def lookup_model(tables: list[Path]) -> Any:
    import pandas as pd

    from latbench.predictors.data import op_data
    from latbench.predictors.lookup import LookupPredictor
    from latbench.tables import read_table

    missing = [t for t in tables if not t.is_file()]
    if missing:
        raise LatbenchError(
            f"{missing[0]}: no such table; `latbench profile SPACE --table {missing[0]}` writes one"
        )
    frame = pd.concat([read_table(t) for t in tables], ignore_index=True)
    ui.console.print(f"costs: lookup predictor over {', '.join(map(str, tables))}")
    ops = op_data(frame)
    return LookupPredictor().fit(*ops.xy, device=ops.device, table_sha256=ops.table_sha256)
