"""``latbench search stnas|rtdnas|cakes|ga|hypersegnas``: each paper's search (``nas/<paper>.py``)
on CPU-sized synthetic data, with costs from a saved predictor.
``latbench search mixed-op --space NAME``: a mixed-op search with the expected-latency
regulariser on any space with a ChoiceLayout, a plugin's too (``nas/choices.py``,
docs/plugins.md).

The normal way in is ``--predictor P.json`` (``latbench fit``; for ST-NAS one per space,
encoder then decoder, or one covering both). Without it, a lookup predictor is fitted on the
device's tables (``latbench profile``'s default path, else the committed reference tables of
the device); a missing table is an error naming the command that makes it, unless
``--profile-missing`` asks to run that command here.
``memory-filter`` is another name for ``hypersegnas``.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from latbench.cli.argtypes import SIZE, nonnegative_float, positive_float, positive_int
from latbench.errors import LatbenchError
from latbench.papers import (
    DINTS_TARGETS_MIB,
    HYPERSEGNAS_BAND_MIB,
    HYPERSEGNAS_SAMPLES,
    RTDNAS_LATENCY_UB_MS,
)

PAPERS = {
    "stnas": "latbench.nas.stnas",
    "rtdnas": "latbench.nas.rtdnas",
    "cakes": "latbench.nas.cakes",
    "ga": "latbench.nas.rtdnas",
    "hypersegnas": "latbench.nas.hypersegnas",
    "memory-filter": "latbench.nas.hypersegnas",
}
"""Search name -> the paper's search module (``SPACES`` there names the spaces it reads). Other
names are registered searches (``latbench.nas.searches``: ``mixed-op``, plugins')."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search",
        help="run a paper's predictor-guided search (CPU-sized)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "which",
        metavar="SEARCH",
        help=f"a paper's ({', '.join(PAPERS)}), mixed-op (any space with a "
        "ChoiceLayout, --space), or a plugin's (docs/plugins.md)",
    )
    p.add_argument(
        "--predictor",
        type=Path,
        action="append",
        default=None,
        help="saved predictor JSON (latency: `latbench fit`; hypersegnas: `latbench "
        "fit --kind memory`); stnas: once per space, encoder then decoder",
    )
    p.add_argument(
        "--table",
        type=Path,
        action="append",
        default=None,
        help="latency table(s) to fit a lookup predictor on instead",
    )
    p.add_argument(
        "--profile-missing",
        action="store_true",
        help="profile a missing default table first, as `latbench profile` does",
    )
    p.add_argument(
        "--space",
        default=None,
        help="mixed-op and plugins' searches: the space to search (mixed-op: any "
        "with a ChoiceLayout, e.g. a plugin's; see docs/plugins.md)",
    )
    p.add_argument(
        "--size",
        default=None,
        type=SIZE,
        help="small or paper (default: the searched space's own, small for these)",
    )
    p.add_argument("--lam", type=nonnegative_float, default=None, help="regulariser weight (λ)")
    p.add_argument("--steps", type=positive_int, default=20, help="architecture-parameter steps")
    p.add_argument("--seed", type=int, default=0, help="random seed of the search")
    p.add_argument("--beta", choices=("params", "latency"), default="latency", help="CAKES β")
    p.add_argument("--n-paths", type=int, default=3, help="GA: paths per individual (N_l)")
    p.add_argument(
        "--upper-ms",
        type=positive_float,
        default=None,
        help=f"RT-DNAS/GA latency bound (GA default {RTDNAS_LATENCY_UB_MS:g})",
    )
    p.add_argument(
        "--target-mib",
        type=positive_float,
        default=DINTS_TARGETS_MIB[0],
        help="hypersegnas: training-memory target (default: DiNTS' 5067 MiB)",
    )
    p.add_argument(
        "--band-mib",
        type=positive_float,
        default=HYPERSEGNAS_BAND_MIB,
        help="hypersegnas: keep architectures within ± this of the target, MiB",
    )
    p.add_argument(
        "-n",
        type=positive_int,
        default=HYPERSEGNAS_SAMPLES,
        help="hypersegnas: architectures sampled (paper: 2000)",
    )
    p.add_argument(
        "--confirm",
        type=int,
        default=0,
        metavar="N",
        help="hypersegnas: measure the top N kept networks on --device into the "
        "memory table (the paper fine-tunes the top 10)",
    )
    p.add_argument("--device", default="cpu", help="hypersegnas --confirm: cpu or cuda[:N]")
    p.add_argument(
        "--memory-table",
        type=Path,
        default=None,
        help="hypersegnas --confirm: memory table to append to (default: "
        "memory-dints-<size>.csv of the device under the tables home, where "
        "`latbench memory` writes)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=2,
        metavar="N",
        help="hypersegnas: local processes for the screen's full traces (default 2)",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="hypersegnas: run the screen's full traces as Ray tasks on the cluster "
        "at ADDRESS (`auto`: the one `ray start` made here; no value: a local "
        "Ray; needs `pip install 'latbench[ray]'`)",
    )
    p.add_argument(
        "--ray-cpus",
        type=int,
        default=None,
        metavar="N",
        help="a local Ray (--ray without ADDRESS) uses N CPUs (default: all)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads of the search, and of the default tables it reads "
        "(default 1: the committed tables; more threads on a shared machine "
        "can be 10× slower)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from latbench.cli import search_runs

    torch.set_num_threads(args.threads)
    which = "hypersegnas" if args.which == "memory-filter" else args.which
    if which not in PAPERS:
        return _registered(args)
    if args.space is not None:
        raise LatbenchError(
            f"--space is for `search mixed-op` and plugins' searches; {which} "
            "searches its paper's space(s)"
        )
    module = importlib.import_module(PAPERS[which])
    if args.size is None:
        from latbench.spaces import default_size

        args.size = default_size(module.SPACES[0])
    if which == "hypersegnas":
        return search_runs.hypersegnas(args, module, _memory_model(args))
    models = cost_models(args, module.SPACES)
    return getattr(search_runs, which)(args, module, models)


def _registered(args: argparse.Namespace) -> int:
    """A registered search (``mixed-op``, a plugin's) on ``--space`` or its own space."""
    from latbench.cli import search_runs
    from latbench.nas.searches import get_search
    from latbench.spaces import get_space

    entry = get_search(args.which, tuple(PAPERS))
    name = args.space or entry.space
    if name is None:
        raise LatbenchError(
            f"search {entry.name} needs --space NAME (`latbench spaces` lists "
            "them; a plugin's space: docs/plugins.md)"
        )
    space = get_space(name)
    args.size = args.size or space.default_size
    model = cost_models(args, (space.name,))[0]
    return search_runs.registered(args, entry, space.name, model)


def _load(path: Path, what: str):  # noqa: ANN202
    from latbench.predictors.persist import PredictorFileError, load

    try:
        return load(path)
    except PredictorFileError as exc:
        if not path.is_file():
            raise LatbenchError(f"{path}: no such predictor file; fit one with {what}") from None
        raise exc


def _memory_model(args: argparse.Namespace):  # noqa: ANN202
    from latbench.nas.hypersegnas import MemoryModel

    if not args.predictor:
        raise LatbenchError(
            "hypersegnas needs --predictor P.json, a training-memory predictor: "
            "`latbench memory dints --n 8` measures a table, `latbench fit "
            "--kind memory TABLE -o P.json` fits it"
        )
    path = args.predictor[0]
    model = _load(path, "`latbench fit --kind memory TABLE -o P.json`")
    if not isinstance(model, MemoryModel):
        raise LatbenchError(
            f"{path} holds a {type(model).__name__}, which has no "
            "predict_archs(archs) -> MiB; fit one with `latbench fit --kind "
            "memory`"
        )
    return model


def cost_models(args: argparse.Namespace, spaces: tuple[str, ...]) -> list:
    """One latency cost model per space of the search (the same object where one covers all)."""
    from latbench.cli.ui import console

    if args.predictor:
        if len(args.predictor) not in (1, len(spaces)):
            raise LatbenchError(
                f"{len(args.predictor)} --predictor files for the "
                f"{len(spaces)} space(s) {', '.join(spaces)}: give one, or one "
                "per space in that order"
            )
        from latbench.predictors.base import input_level

        models = [_load(p, "`latbench fit TABLE -o P.json`") for p in args.predictor]
        for path, model in zip(args.predictor, models):
            if getattr(model, "unit", None) != "ms" or input_level(model) != "op":
                raise LatbenchError(
                    f"{path} holds a {type(model).__name__} "
                    f"({getattr(model, 'unit', '?')}, "
                    f"{input_level(model)} level); this search needs "
                    "an op latency predictor (`latbench fit TABLE`, without "
                    "--networks)"
                )
        console.print(f"costs: {', '.join(map(str, args.predictor))}")
        return models * len(spaces) if len(models) == 1 else models
    return [lookup_model(args.table or default_tables(args, spaces))] * len(spaces)


def default_tables(args: argparse.Namespace, spaces: tuple[str, ...]) -> list[Path]:
    """The device's default tables of ``spaces``; missing ones are profiled with
    ``--profile-missing`` (``latbench profile``'s command and protocol), or named in the error."""
    from latbench.cli import profile
    from latbench.cli.ui import console
    from latbench.device import fingerprint
    from latbench.tablerun.paths import REFERENCE_DIR, default_table_path

    slug = fingerprint("cpu", threads=args.threads)["slug"]
    paths = []
    for name in spaces:
        path = default_table_path(slug, f"{name}-{args.size}")
        reference = REFERENCE_DIR / slug / path.name  # committed tables of this device
        paths.append(path if path.exists() or not reference.exists() else reference)
    for name, path in zip(spaces, paths):
        if path.exists():
            continue
        command = ["profile", name, "--size", args.size, "--threads", str(args.threads)]
        if not args.profile_missing:
            raise LatbenchError(
                f"no latency table {path}; run `latbench {' '.join(command)}` "
                "(then `latbench fit` it and pass --predictor), or add "
                "--profile-missing"
            )
        console.print(f"no table {path}: running `latbench {' '.join(command)}`")
        parser = argparse.ArgumentParser(prog="latbench")
        profile.register(parser.add_subparsers())
        profile.run(parser.parse_args(command))
    return paths


def lookup_model(tables: list[Path]):  # noqa: ANN201
    """A LookupPredictor over ``tables``."""
    import pandas as pd

    from latbench.cli.ui import console
    from latbench.predictors.lookup import LookupPredictor
    from latbench.tables import read_table

    missing = [t for t in tables if not t.is_file()]
    if missing:
        raise LatbenchError(
            f"{missing[0]}: no such table; `latbench profile SPACE --table {missing[0]}` writes one"
        )
    frame = pd.concat([read_table(t) for t in tables], ignore_index=True)
    console.print(f"costs: lookup predictor over {', '.join(map(str, tables))}")
    return LookupPredictor().fit(frame)
