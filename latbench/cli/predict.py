"""``latbench predict``: predictions of a saved predictor for ops or sampled networks."""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from latbench.cli import modelargs, ui
from latbench.cli.argtypes import SIZE, nonnegative_int, positive_int, rng_seed
from latbench.errors import LatbenchError, with_filename


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="predict op or network latency with a saved predictor",
        description="Op predictors: predict --key KEYs or every op of --space. Network "
        "predictors: predict --n networks sampled from --space, or the networks of --networks. "
        "--model SPEC: the latency of your own network (with an op predictor, the uncalibrated "
        "sum of its ops). Predictions are estimates and are labelled so in --out.",
    )
    p.add_argument("predictor", type=Path, help="predictor JSON written by `latbench fit`")
    p.add_argument("--space", help="search space to take ops or networks from")
    p.add_argument(
        "--size",
        type=SIZE,
        help="size of --space, small or paper (default: the size the predictor was fitted on, "
        "else the space's own: paper for nasbench201)",
    )
    p.add_argument(
        "--n", type=positive_int, help="networks to sample (network predictors; default 10)"
    )
    p.add_argument("--seed", type=rng_seed, default=0, help="seed of the sampled networks")
    p.add_argument("--key", action="append", default=[], help="OpSpec key (repeatable)")
    p.add_argument("--networks", type=Path, help="predict the networks of this table")
    modelargs.add_model_args(p)
    p.add_argument(
        "--threads",
        type=positive_int,
        help="the CPU thread count predictions are for (device check)",
    )
    p.add_argument("--out", type=Path, help="write predictions to this CSV")
    p.add_argument("--show", type=nonnegative_int, default=20, help="rows to print (default 20)")
    p.set_defaults(func=run)


def choose_size(
    space: str,
    size: str | None,
    fitted: dict[str, list[str]],
    source: str,
    from_spec_sheet: bool = False,
) -> tuple[str, str]:
    """The size of ``space`` to predict (default: the one in ``fitted``, the predictor's
    ``info_["sizes"]``, else the space's), and a note when it was not fitted on that size or
    does not record its sizes (a spec-sheet estimate was fitted on none; "" for no note)."""
    from latbench.spaces import default_size, size_note

    sizes = fitted.get(space, [])
    if size is None:
        size = sizes[0] if len(sizes) == 1 else default_size(space)
    if not fitted and not from_spec_sheet:
        return size, (
            f"note: {source} does not record the size it was fitted on (saved "
            f"before latbench recorded it); predicting {space} at size {size}"
        )
    note = size_note(fitted, space, size, source)
    return size, f"note: {note}" if note else ""


def _queries(
    args: argparse.Namespace,
    is_network: bool,
    fitted: dict[str, list[str]],
    spec_sheet: bool = False,
) -> tuple[list, list[str]]:
    from latbench.archs import sample_architectures
    from latbench.opspec import OpSpec
    from latbench.predictors.data import network_data
    from latbench.spaces import get_space

    if args.space:
        args.size, note = choose_size(
            args.space, args.size, fitted, str(args.predictor), from_spec_sheet=spec_sheet
        )
        if note:
            ui.console.print(note)
    if args.model is not None:
        archs = modelargs.model_architectures(args)
        return archs, [modelargs.model_label(a) for a in archs]
    modelargs.refuse_model_args(args, "a predictor's query")
    if is_network:
        if args.key:  # not silently ignored: it asks for ops
            raise LatbenchError(
                f"--key prices an op, but {args.predictor} is a network predictor: it predicts "
                "--networks TABLE, --n networks of --space or --model (drop --key, or use an op "
                "predictor: `latbench fit OPS`)"
            )
        if args.networks is not None:
            archs = network_data(args.networks).archs
        elif args.space:
            archs = sample_architectures(args.space, args.n or 10, args.size, args.seed)
        else:
            raise LatbenchError("a network predictor needs --space SPACE or --networks TABLE")
        return archs, [a.genotype or a.name or f"arch{i}" for i, a in enumerate(archs)]
    asked = [o for o, v in (("--n", args.n), ("--networks", args.networks)) if v is not None]
    if asked:  # not silently ignored: they ask for networks
        raise LatbenchError(
            f"{' and '.join(asked)} ask{'s' * (len(asked) == 1)} for networks, but "
            f"{args.predictor} is an op predictor: "
            "it predicts --key KEYs or every op of --space (drop them, or fit a network "
            "predictor: `latbench fit OPS --networks NETS`)"
        )
    specs = [OpSpec.from_key(k) for k in args.key]
    if args.space:
        specs += get_space(args.space).ops(args.size)
    if not specs:
        raise LatbenchError("an op predictor needs --key KEY or --space SPACE")
    return specs, [s.key for s in specs]


def interval_note(model: object) -> str:
    """How a transfer predictor's interval was made (one line for the CLI)."""
    from latbench.predictors.transfer_fit import CONFIDENCE

    n = getattr(model, "n_shots_", 0)
    if not n:  # a spec-sheet estimate: nothing measured on the target
        on = ", ".join(getattr(model, "calibrated_on_", [])) or "other GPUs"
        return (
            f"tolerance interval from the spec-sheet model's relative errors on each GPU it "
            f"was calibrated on ({on}) when fitted on the others; no measurement of this GPU "
            "(predictors/transfer_fit.py: tolerance_factor)"
        )
    return (
        f"tolerance interval from the leave-one-out errors on its {n} shots, meant to cover "
        f"{100 * getattr(model, 'coverage', 0.9):g} % of networks in {100 * CONFIDENCE:g} % of "
        "fits (predictors/transfer_fit.py: tolerance_factor)"
    )


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from latbench.device import fingerprint
    from latbench.predictors.base import input_level
    from latbench.predictors.device_prior import refuse_prior
    from latbench.predictors.persist import load
    from latbench.tables import refuse_table

    slug = fingerprint("cpu", threads=args.threads)["slug"] if args.threads else None
    model = load(args.predictor, device=slug)
    refuse_prior(model, args.predictor)
    is_network = input_level(model) == "network"
    spec_sheet = type(model).__name__ == "SpecSheetPredictor"  # fitted on no table of a space
    sizes = getattr(model, "info_", {}).get("sizes", {})
    queries, names = _queries(args, is_network, sizes, spec_sheet)
    t0 = time.perf_counter()
    source = getattr(model, "estimate_label", "estimated")
    how = f"{source} by {type(model).__name__}"
    interval = hasattr(model, "predict_interval") and is_network
    if args.model is not None and not is_network:  # an op predictor: the sum of the ops
        pred = np.asarray([float(np.sum(model.predict(a.ops()))) for a in queries])
        how += ", uncalibrated sum of each model's ops"
    elif interval:
        pred, low, high = (np.asarray(v) for v in model.predict_interval(queries))
    else:
        pred = np.asarray(model.predict(queries))
    elapsed = time.perf_counter() - t0
    lookup = hasattr(model, "coverage_of") and args.model is None
    coverage = model.coverage_of(queries) if lookup else None
    ui.console.print(
        f"{len(pred)} predictions ({model.unit}, {how}) in {1e3 * elapsed:.1f} ms"
        + (f"; coverage {coverage.summary()}" if coverage is not None else ""),
    )
    if args.model is not None:
        _print_source(model, args.predictor)
    header = ["query", f"predicted ({model.unit})"]
    rows = [[n, float(v)] for n, v in zip(names, pred)]
    if interval:
        level = f"{100 * model.coverage:g} %"
        header += [f"{level} low", f"{level} high"]
        rows = [r + [float(lo), float(hi)] for r, lo, hi in zip(rows, low, high)]
        ui.console.print(f"{level} interval: {interval_note(model)}")
    ui.print_table("predicted", header, rows[: args.show])
    if args.out is not None:
        extra = [f"low_{model.unit}", f"high_{model.unit}", "interval_coverage"] if interval else []
        tail = ([model.coverage] if interval else []) + [source, str(args.predictor)]
        refuse_table(args.out, "predictions")
        try:
            with open(args.out, "w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)  # floats as repr: every digit kept
                w.writerow(["query", f"predicted_{model.unit}", *extra, "source", "predictor"])
                w.writerows(row + tail for row in rows)
        except OSError as exc:  # e.g. a full disk fails at close, naming no file
            raise with_filename(exc, args.out) from None
        ui.console.print(f"wrote {len(pred)} rows -> {args.out}")
    return 0


def _print_source(model: object, path: Path) -> None:
    """Which predictor and tables a model's prediction comes from, and for which device."""
    info = getattr(model, "info_", {})
    paths = info.get("table_paths") or {}
    tables = ", ".join(
        f"{name} table {paths.get(name, '(path not recorded)')} (sha256 {digest[:12]})"
        for name, digest in sorted((info.get("tables_sha256") or {}).items())
    )
    ui.console.print(
        f"from {path}: fitted on device {info.get('device') or '?'} "
        f"({info.get('statistic') or 'latency_median_ms'}; {tables or 'tables not recorded'}); "
        "a prediction is for that device and the backend its tables were measured on (eager "
        "PyTorch for `latbench profile`)",
        highlight=False,
    )
