"""``latbench fit``: fit a predictor on a latency table (and whole networks) and save it."""

from __future__ import annotations

import argparse
from pathlib import Path

from latbench.cli.argtypes import nonnegative_int, positive_int
from latbench.cli.ui import console, print_table
from latbench.errors import LatbenchError
from latbench.statistics import STATISTICS as STATS, is_corrected
from latbench.predictors.names import CALIBRATIONS, COMPOSITIONS, METHODS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="fit a latency predictor and save it as JSON",
                       description="Fit an op predictor on OP_TABLE (lookup or learned) and, "
                                   "with --networks, calibrate a network predictor on whole "
                                   "networks measured as a whole. With --transfer-from, map a "
                                   "predictor of another device onto this one from --shots "
                                   "networks of --networks.")
    p.add_argument("op_table", nargs="?", type=Path, help="latbench.latency table (CSV)")
    p.add_argument("-o", "--out", type=Path, required=True, help="predictor JSON to write")
    p.add_argument("--kind", choices=("lookup", "learned", "memory"), default="lookup",
                   help="lookup: the table's ops by key; learned: a regressor on op features "
                        "that also predicts unmeasured ops; memory: a training-memory "
                        "predictor on a memory table (HyperSegNAS) (default: lookup)")
    p.add_argument("--networks", type=Path, help="latbench.networks table to calibrate on")
    p.add_argument("--calibration", choices=CALIBRATIONS, default="affine",
                   help="how --networks corrects the summed op latencies (default: affine)")
    p.add_argument("--composition", choices=COMPOSITIONS, default="sum",
                   help="how op latencies combine into a network's: sum over all ops, or "
                        "the longest input-to-output path (default: sum)")
    p.add_argument("--stat", choices=sorted(STATS), default="median",
                   help="statistic fitted: median, or min (robust on a loaded machine)")
    p.add_argument("--transfer-from", type=Path,
                   help="predictor of another device (network or op level) to transfer; for "
                        "a model-zoo table (import-nets --format timm): the networks table of "
                        "the same models on another device")
    p.add_argument("--shots", type=positive_int, default=10,
                   help="networks of --networks drawn at random (with --seed) as shots")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="seed of the shot draw (default: 0)")
    p.add_argument("--prior-from", type=Path, nargs="+", metavar="NETWORKS",
                   help="networks tables of OTHER devices (e.g. other columns of an imported "
                        "file): learn a prior on relative op costs from them")
    p.add_argument("--method", choices=METHODS, default="auto",
                   help="transfer method; auto: chosen by leave-one-out CV on the shots")
    p.set_defaults(func=run)


def _prior(paths: list[Path], source: object, column: str):  # noqa: ANN202
    """A DevicePrior learned from the networks tables of other devices."""
    from latbench.predictors.batch import encode
    from latbench.predictors.data import network_data
    from latbench.predictors.device_prior import DevicePrior
    from latbench.predictors.transfer import source_op_costs

    devices = {}
    for path in paths:
        data = network_data(path, column)
        devices[data.device or path.stem] = (encode(data.archs), data.latency_ms)
    prior = DevicePrior.fit_devices(devices, lambda ops: source_op_costs(source, ops))
    console.print(f"prior learned from {len(devices)} device(s): {', '.join(devices)} "
                  f"({len(prior.keys)} shared ops)", markup=False)
    return prior


def _transfer(args: argparse.Namespace
              ) -> tuple[object, dict[str, str], dict, str, dict[str, list[str]], dict | None]:
    from latbench.predictors.base import input_level
    from latbench.predictors.data import fitted_sizes, network_data
    from latbench.predictors.persist import load
    from latbench.predictors.transfer import TransferPredictor
    from latbench.predictors.transfer_fit import choose_shots

    if args.networks is None:
        raise LatbenchError("--transfer-from needs --networks (networks measured on the "
                            "target device)")
    nets = network_data(args.networks, STATS[args.stat])
    if nets.space == "timm":
        return _model_transfer(args, nets)
    source = load(args.transfer_from)
    if input_level(source) == "op":
        console.print(f"source {args.transfer_from} is an op predictor "
                      f"({type(source).__name__}): lifted to networks as the sum of its op costs")
    rows = choose_shots(len(nets.archs), args.shots, args.seed)
    prior = _prior(args.prior_from, source, STATS[args.stat]) if args.prior_from else None
    model = TransferPredictor(source, args.method, nets.device, prior).fit(
        [nets.archs[i] for i in rows], nets.latency_ms[rows])
    scores = ", ".join(f"{m} {100 * v:.1f}%" for m, v in model.cv_scores_.items())
    console.print(f"{len(rows)} shots drawn at random (seed {args.seed}) from {len(nets.archs)} "
                  f"networks of {args.networks} ({nets.provenance}); chose {model.method_} "
                  f"(alpha {model.alpha_:g}) by leave-one-out RMS relative error: {scores}",
                  markup=False)
    return (model, {"networks": nets.table_sha256}, model.fit_metrics_, nets.device,
            fitted_sizes(archs=nets.archs), nets.drift_reference)


def _model_transfer(args: argparse.Namespace, nets: object
                    ) -> tuple[object, dict[str, str], dict, str, dict[str, list[str]], None]:
    """Whole models of an imported zoo (space timm): ``--transfer-from`` and ``--prior-from``
    are networks tables of the same models on OTHER devices (the source columns),
    ``latbench.predictors.model_transfer``."""
    from latbench.model_features import FEATURES
    from latbench.predictors.data import network_data
    from latbench.predictors.model_transfer import (ModelTransferPredictor, SourceColumn,
                                                    as_models)
    from latbench.predictors.transfer_fit import choose_shots

    if args.method not in ("auto", "loglinear"):
        raise LatbenchError(f"--method {args.method} fits op costs; a model-zoo table (space "
                            "timm) takes --method auto or loglinear")
    sources, tables = [], {"networks": nets.table_sha256}
    for i, path in enumerate(p for p in [args.transfer_from, *(args.prior_from or [])] if p):
        src = network_data(path, STATS[args.stat])
        if src.space != "timm":
            raise LatbenchError(f"{path}: space {src.space!r}; the source columns of a model-zoo "
                                "transfer are networks tables of the same zoo (space timm) on "
                                "other devices (`latbench import-nets --format timm`)")
        rows = as_models(src.archs, FEATURES)
        sources.append(SourceColumn.fit(src.device or path.parent.name, rows.keys,
                                        rows.features, src.latency_ms / rows.batch))
        tables[f"source{i + 1}"] = src.table_sha256
    shots = choose_shots(len(nets.archs), args.shots, args.seed)
    model = ModelTransferPredictor(FEATURES, sources, args.method, nets.device).fit(
        [nets.archs[i] for i in shots], nets.latency_ms[shots])
    scores = ", ".join(f"{m} {100 * v:.1f}%" for m, v in model.cv_scores_.items())
    console.print(f"{len(shots)} shots drawn at random (seed {args.seed}) from "
                  f"{len(nets.archs)} models of {args.networks} ({nets.provenance}); source "
                  f"columns: {', '.join(s.device for s in sources) or 'none'}; chose "
                  f"{model.method_} (alpha {model.alpha_:g}) by leave-one-out RMS relative "
                  f"error: {scores}", markup=False)
    missing = {d: n for d, n in model.imputed(nets.archs).items() if n}
    if missing:
        console.print("models missing from a source column (their source latency is "
                      "predicted from features): " + ", ".join(f"{d} {n}"
                                                               for d, n in missing.items()),
                      markup=False)
    return model, tables, model.fit_metrics_, nets.device, {}, None


def _print_metrics(name: str, metrics: dict) -> None:
    """The in-sample metrics as ``latbench evaluate`` prints held-out ones (shares as
    percentages, ``predictors.report.metric_rows``); other metrics (memory) as they are."""
    from latbench.predictors.report import METRIC_HEADER, is_accuracy, metric_rows

    if is_accuracy(metrics):
        print_table("fit (in-sample)", METRIC_HEADER, metric_rows({name: metrics}))
    else:
        print_table("fit (in-sample)", list(metrics), [list(metrics.values())])


def _memory(args: argparse.Namespace) -> int:
    """``--kind memory``: OP_TABLE is a memory table (`latbench memory SPACE`)."""
    from latbench.predictors.memory_fit import fit_memory
    from latbench.predictors.persist import save

    if args.op_table is None:
        raise LatbenchError("fit --kind memory needs a memory table (`latbench memory dints` "
                            "writes device_profiles/<device>/memory-dints-small.csv)")
    model, info = fit_memory(args.op_table)
    save(model, args.out, **info)
    console.print(f"fitted {type(model).__name__} ({model.target}, offset calibrated on "
                  f"{model.n_calibration_} measured networks) -> {args.out}")
    _print_metrics(type(model).__name__, info["fit_metrics"])
    return 0


def run(args: argparse.Namespace) -> int:
    if args.kind == "memory":
        return _memory(args)
    from latbench.predictors.data import fitted_sizes, network_data, op_data
    from latbench.predictors.learned import LearnedPredictor  # scikit-learn: only when fitting
    from latbench.predictors.network import NetworkPredictor
    from latbench.predictors.persist import save
    from latbench.predictors.lookup import LookupPredictor

    from latbench.importing_timm import is_model_table

    zoo = args.op_table is None and args.networks is not None and is_model_table(args.networks)
    if args.transfer_from is not None or zoo:  # a zoo: sources optional (features alone)
        model, tables, metrics, device, sizes, drift = _transfer(args)
    else:
        if args.op_table is None:
            raise LatbenchError("fit needs OP_TABLE (or --transfer-from with --networks)")
        ops = op_data(args.op_table, STATS[args.stat])
        model = (LookupPredictor() if args.kind == "lookup" else LearnedPredictor()).fit(ops)
        tables, device = {"ops": ops.table_sha256}, ops.device
        sizes, drift = fitted_sizes(ops), ops.drift_reference
        metrics = getattr(model, "fit_metrics_", {})
        if args.networks is not None:
            nets = network_data(args.networks, STATS[args.stat])
            model = NetworkPredictor(model, args.composition, args.calibration).fit(
                nets.archs, nets.latency_ms)
            tables["networks"], metrics = nets.table_sha256, model.fit_metrics_
            sizes, drift = fitted_sizes(ops, nets.archs), nets.drift_reference
    paths = {"ops": args.op_table, "networks": args.networks}
    save(model, args.out, device=device, tables=tables, fit_metrics=metrics,
         statistic=STATS[args.stat], sizes=sizes,
         table_paths={k: str(paths[k]) for k in tables if paths.get(k) is not None},
         drift_reference=drift if is_corrected(STATS[args.stat]) else None)
    console.print(f"fitted {type(model).__name__} on device {device or '?'} -> {args.out}")
    if metrics:
        _print_metrics(type(model).__name__, metrics)
    return 0
