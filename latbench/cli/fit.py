"""``latbench fit``: fit a predictor on a latency table (and whole networks) and save it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from latbench.cli import ui
from latbench.cli.argtypes import OneOf, nonnegative_int, positive_int, rng_seed
from latbench.errors import LatbenchError
from latbench.statistics import STATISTICS as STATS
from latbench.statistics import is_corrected


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fit",
        help="fit a latency predictor and save it as JSON",
        description="Fit an op predictor on OP_TABLE (lookup or learned) and, with --networks, "
        "calibrate a network predictor on whole networks measured as a whole. With "
        "--transfer-from, map a predictor of another device onto this one from --shots networks "
        "of --networks.",
    )
    p.add_argument("op_table", nargs="?", type=Path, help="latbench.latency table (CSV)")
    p.add_argument("-o", "--out", type=Path, required=True, help="predictor JSON to write")
    p.add_argument(
        "--kind",
        choices=("lookup", "learned", "memory", "prior"),
        default="lookup",
        help="lookup: the table's ops by key; learned: a regressor on op features that also "
        "predicts unmeasured ops; memory: a training-memory predictor on a memory table "
        "(HyperSegNAS); prior: a cross-device prior on relative op costs from the --prior-from "
        "tables, saved for `fit --prior-from PRIOR.json` (default: lookup)",
    )
    p.add_argument("--networks", type=Path, help="latbench.networks table to calibrate on")
    p.add_argument(
        "--calibration",
        type=OneOf("latbench.predictors.network", "CALIBRATIONS"),
        default="affine",
        help="how --networks corrects the composed op latencies, fitted non-negative on "
        "relative error: affine (default: a constant, the op sum, the longest path, the op "
        "count and the merges), per_kind (a constant, one factor per op kind's sum, the "
        "merges), split (the op sum, the sum of the ops under 1 ms and the op count: for "
        "--model networks), linear (a constant and a factor on the op sum), scale (a factor on "
        "the op sum), none (the composition itself)",
    )
    p.add_argument(
        "--composition",
        type=OneOf("latbench.predictors.network", "COMPOSITIONS"),
        default="sum",
        help="how op latencies combine into a network's: sum (over all ops; default) or "
        "longest_path (the longest input-to-output path, RT-DNAS Eq. 4; what linear, scale and "
        "none calibrate; affine fits both, per_kind and split refuse it)",
    )
    p.add_argument(
        "--stat",
        choices=sorted(STATS),
        default="median",
        help="statistic fitted: median, or min (robust on a loaded machine)",
    )
    p.add_argument(
        "--transfer-from",
        type=Path,
        help="predictor of another device (network or op level) to transfer; for a model-zoo table "
        "(import-nets --format timm): the networks table of the same models on another device",
    )
    p.add_argument(
        "--shots",
        type=nonnegative_int,
        default=10,
        help="networks of --networks drawn at random (with --seed) as shots; 0 "
        "with --target-gpu: the spec-sheet estimate alone",
    )
    p.add_argument(
        "--target-gpu",
        metavar="GPU",
        help="a GPU of predictors/gpu_specs.csv (e.g. V100): estimate from its spec "
        "sheet (--shots 0), or start the transfer's fit from it (--shots k)",
    )
    p.add_argument(
        "--batch",
        type=positive_int,
        help="batch size of a --target-gpu estimate (default: the batch of --networks, else 1)",
    )
    p.add_argument("--seed", type=rng_seed, default=0, help="seed of the shot draw (default: 0)")
    p.add_argument(
        "--prior-from",
        type=Path,
        nargs="+",
        metavar="NETWORKS",
        help="a prior saved by `fit --kind prior` (PRIOR.json), or networks tables "
        "of OTHER devices (e.g. other columns of an imported file, any batch "
        "sizes) to learn the prior on relative op costs from",
    )
    p.add_argument(
        "--method",
        type=OneOf("latbench.predictors.transfer", "METHODS"),
        default="auto",
        help="transfer method (docs/transfer.md): auto (default: chosen by leave-one-out CV "
        "on the shots), launches or roofline (a device model on kernel launches, and FLOPs and "
        "bytes), opcost-roofline, opcost, opcost-learned or opcost-nearest (per-op costs shrunk "
        "toward the roofline's, the source's, or a --prior-from prior learned on other "
        "devices or taken from the closest one), loglinear or scale (a map of the source's "
        "predictions); a model-zoo table (import-nets --format timm) takes auto or loglinear",
    )
    p.set_defaults(func=run)


def _learn_prior(paths: list[Path], column: str) -> Any:
    """A DevicePrior learned from the networks tables of other devices (any batch sizes)."""
    from latbench.predictors.batch import encode
    from latbench.predictors.data import network_data
    from latbench.predictors.device_prior import DevicePrior

    devices = {}
    for path in paths:
        data = network_data(path, column)
        name = data.device or path.stem
        if name in devices:  # two columns of one device (e.g. batch 1 and 32) stay apart
            name = f"{name}:{path.parent.name or path.stem}"
        devices[name] = (encode(data.archs), data.latency_ms)
    prior = DevicePrior.fit_devices(devices)
    ui.console.print(
        f"prior learned from {len(devices)} device(s): "
        + ", ".join(f"{d} (batch {b})" for d, b in zip(devices, prior.batches))
        + f"; {len(prior.keys)} shared ops (keyed at batch 1)",
    )
    return prior


def _prior(paths: list[Path], column: str, target_ops: list) -> Any:
    """The prior of ``--prior-from`` (saved, or learned from tables); an error when it knows
    none of the target's ops, a note when only some."""
    from latbench.predictors.device_prior import DevicePrior, prior_key
    from latbench.predictors.persist import load

    if len(paths) == 1 and paths[0].suffix == ".json":
        prior = load(paths[0])
        if not isinstance(prior, DevicePrior):
            raise LatbenchError(
                f"{paths[0]}: a saved {type(prior).__name__}, not a prior; write one with "
                "`latbench fit --kind prior --prior-from TABLES... -o PRIOR.json`"
            )
        ui.console.print(f"prior {paths[0]}: {len(prior.devices)} device(s), {len(prior.keys)} ops")
    else:
        prior = _learn_prior(paths, column)
    keys = [op.key for op in target_ops]
    missing = prior.missing(keys)
    if len(missing) == len(keys):
        raise LatbenchError(
            f"--prior-from: the prior ({', '.join(prior.devices)}) knows none of the target's "
            f"{len(keys)} ops (e.g. {prior_key(keys[0])}; the prior's are e.g. "
            f"{prior.keys[0] if prior.keys else 'none'}): it was learned on another search "
            "space or size"
        )
    if missing:
        ui.console.print(
            f"note: the prior lacks {len(missing)} of the target networks' {len(keys)} ops (e.g. "
            f"{prior_key(missing[0])}); opcost-learned is used only for shots whose ops it covers",
        )
    return prior


def _distinct_sources(args: argparse.Namespace) -> dict[Path, str]:
    """Each --prior-from / --transfer-from table's sha256; one line unless --prior-from is one
    saved prior alone or tables of OTHER devices, each file (by content) named once and never
    the --networks target (its own latencies in the prior would flatter the transfer)."""
    from latbench.predictors.persist import sha256_file

    paths = args.prior_from or []
    saved = [p for p in paths if p.suffix == ".json"]
    if saved and len(paths) > 1:
        raise LatbenchError(
            f"--prior-from {saved[0]}: a saved prior goes alone; the other values are networks "
            "tables to learn one from"
        )
    seen = {sha256_file(args.networks): f"--networks {args.networks}"} if args.networks else {}
    digests = {}
    for path in (p for p in (args.transfer_from, *paths) if p and p.suffix != ".json"):
        digest = digests[path] = sha256_file(path)
        if digest in seen:
            raise LatbenchError(
                f"{path}: the same file as {seen[digest]}; --prior-from and --transfer-from "
                "take other devices' tables, each once"
            )
        seen[digest] = str(path)
    return digests


def _fit_prior(args: argparse.Namespace) -> int:
    from latbench.predictors.persist import save

    if not args.prior_from or len(args.prior_from) < 2:
        raise LatbenchError(
            "fit --kind prior needs --prior-from with >= 2 networks tables "
            "(e.g. the columns `latbench import-nets` wrote)"
        )
    digests = _distinct_sources(args)
    prior = _learn_prior(args.prior_from, STATS[args.stat])
    tables = {str(p): digests[p] for p in args.prior_from}  # the saved prior names them
    save(prior, args.out, tables=tables, statistic=STATS[args.stat])
    ui.console.print(f"saved prior -> {args.out}")
    return 0


def _transfer(args: argparse.Namespace) -> int:
    from latbench.predictors.base import input_level
    from latbench.predictors.batch import encode
    from latbench.predictors.data import fitted_sizes, network_data
    from latbench.predictors.device_prior import DevicePrior
    from latbench.predictors.memory import TrainingMemoryPredictor
    from latbench.predictors.persist import load
    from latbench.predictors.transfer import TransferPredictor
    from latbench.predictors.transfer_fit import choose_shots

    if args.networks is None:
        raise LatbenchError(
            f"{'--transfer-from' if args.transfer_from else '--target-gpu'} with shots needs "
            "--networks (networks measured on the target device)"
        )
    nets = network_data(args.networks, STATS[args.stat])
    if nets.space == "timm":
        return _model_transfer(args, nets)
    spec = None
    if args.target_gpu is not None:
        spec = _spec_model(args, nets.archs)
        ui.console.print(
            f"{args.target_gpu}: the fit starts from its {spec.estimate_label} "
            f"({spec.spec_.source})",
        )
    source = load(args.transfer_from) if args.transfer_from is not None else spec
    if isinstance(source, (TrainingMemoryPredictor, DevicePrior)):
        raise LatbenchError(
            f"{args.transfer_from}: a {type(source).__name__}, not a latency predictor; "
            "--transfer-from takes a latency predictor of another device (`latbench fit`)"
        )
    if input_level(source) == "op":
        ui.console.print(
            f"source {args.transfer_from} is an op predictor "
            f"({type(source).__name__}): lifted to networks as the sum of its op costs"
        )
    rows = choose_shots(len(nets.archs), args.shots, args.seed)
    shots = [nets.archs[i] for i in rows]
    prior = (
        _prior(args.prior_from, STATS[args.stat], encode(shots).ops) if args.prior_from else None
    )
    spec_prior = None if spec is None else spec.weights_.tolist()
    model = TransferPredictor(source, args.method, nets.device, prior, spec_prior=spec_prior)
    model.fit(shots, nets.latency_ms[rows])
    _print_choice(args, model, len(rows), nets, "networks")
    tables = {"networks": nets.table_sha256}
    return _save(
        args, model, nets.device, tables, fitted_sizes(archs=nets.archs), nets.drift_reference
    )


def _print_choice(
    args: argparse.Namespace, model: Any, n_shots: int, nets: Any, what: str, sources: str = ""
) -> None:
    scores = ", ".join(f"{m} {100 * v:.1f}%" for m, v in model.cv_scores_.items())
    ui.console.print(
        f"{n_shots} shots drawn at random (seed {args.seed}) from {len(nets.archs)} {what} of "
        f"{args.networks} ({nets.provenance}); {sources}chose {model.method_} (alpha "
        f"{model.alpha_:g}) by leave-one-out RMS relative error: {scores}",
    )


def _spec_model(args: argparse.Namespace, archs: list) -> Any:
    """The spec-sheet predictor of --target-gpu at --batch, else at ``archs``' batch."""
    from latbench.predictors.batch import encode
    from latbench.predictors.device_prior import batch_of
    from latbench.predictors.gpu_specs import SpecSheetPredictor

    batch = args.batch or (batch_of(encode(archs[:1])) if archs else 1)
    return SpecSheetPredictor(args.target_gpu, batch).fit()


def _spec_sheet(args: argparse.Namespace) -> int:
    from latbench.predictors.data import network_data
    from latbench.predictors.persist import save

    read = args.networks is not None and args.batch is None  # the batch of --networks
    model = _spec_model(args, network_data(args.networks).archs if read else [])
    save(model, args.out)  # no device slug: nothing was measured (the state says which GPU)
    w = model.weights_
    ui.console.print(
        f"{model.spec_.gpu} at batch {model.batch}: {model.estimate_label} (no measurement; "
        f"source: {model.spec_.source}); calibrated on {', '.join(model.calibrated_on_)}: const "
        f"{w[0]:.3g} ms, {1e3 * w[1]:.3g} µs per kernel launch -> {args.out}",
    )
    return 0


def _model_transfer(args: argparse.Namespace, nets: Any) -> int:
    """A model zoo's transfer (space timm): the source columns are ``--transfer-from`` and
    ``--prior-from``, networks tables of the same models on OTHER devices."""
    from latbench.model_features import FEATURES
    from latbench.predictors.data import network_data
    from latbench.predictors.model_transfer import ModelTransferPredictor, SourceColumn, as_models
    from latbench.predictors.transfer_fit import choose_shots

    if args.method not in ("auto", "loglinear"):
        raise LatbenchError(
            f"--method {args.method} fits op costs; a model-zoo table (space timm) takes "
            "--method auto or loglinear"
        )
    sources, tables = [], {"networks": nets.table_sha256}
    for i, path in enumerate(p for p in [args.transfer_from, *(args.prior_from or [])] if p):
        src = network_data(path, STATS[args.stat])
        if src.space != "timm":
            raise LatbenchError(
                f"{path}: space {src.space!r}; the source columns of a model-zoo transfer are "
                "networks tables of the same zoo (space timm) on other devices "
                "(`latbench import-nets --format timm`)"
            )
        keys, features, batch, _ = as_models(src.archs, FEATURES)
        device = src.device or path.parent.name
        sources.append(SourceColumn.fit(device, keys, features, src.latency_ms / batch))
        tables[f"source{i + 1}"] = src.table_sha256
    shots = choose_shots(len(nets.archs), args.shots, args.seed)
    model = ModelTransferPredictor(FEATURES, sources, args.method, nets.device).fit(
        [nets.archs[i] for i in shots], nets.latency_ms[shots]
    )
    columns = ", ".join(s.device for s in sources) or "none"
    _print_choice(args, model, len(shots), nets, "models", f"source columns: {columns}; ")
    missing = {d: n for d, n in model.imputed(nets.archs).items() if n}
    if missing:
        ui.console.print(
            "models missing from a source column (their source latency is predicted from "
            "features): " + ", ".join(f"{d} {n}" for d, n in missing.items()),
        )
    return _save(args, model, nets.device, tables, {}, None)


def _save(
    args: argparse.Namespace,
    model: Any,
    device: str,
    tables: dict[str, str],
    sizes: dict[str, list[str]],
    drift: dict | None,
) -> int:
    """Save ``model`` to ``--out`` with where it was fitted from; print it and its metrics."""
    from latbench.predictors.persist import save

    metrics = getattr(model, "fit_metrics_", {})
    paths = {"ops": args.op_table, "networks": args.networks}
    save(
        model,
        args.out,
        device=device,
        tables=tables,
        fit_metrics=metrics,
        statistic=STATS[args.stat],
        sizes=sizes,
        table_paths={k: str(paths[k]) for k in tables if paths.get(k) is not None},
        drift_reference=drift if is_corrected(STATS[args.stat]) else None,
    )
    ui.console.print(f"fitted {type(model).__name__} on device {device or '?'} -> {args.out}")
    if metrics:
        _print_metrics(type(model).__name__, metrics)
    return 0


def _print_metrics(name: str, metrics: dict) -> None:
    """The in-sample metrics as ``latbench evaluate`` prints held-out ones; memory's as they are."""
    from latbench.predictors.report import METRIC_HEADER, is_accuracy, metric_rows

    if is_accuracy(metrics):
        ui.print_table("fit (in-sample)", METRIC_HEADER, metric_rows({name: metrics}))
    else:
        ui.print_table("fit (in-sample)", list(metrics), [list(metrics.values())])


def _memory(args: argparse.Namespace) -> int:
    from latbench.predictors.memory import fit_memory
    from latbench.predictors.persist import save

    if args.op_table is None:
        raise LatbenchError(
            "fit --kind memory needs a memory table (`latbench memory dints` "
            "writes device_profiles/<device>/memory-dints-small.csv)"
        )
    model, info = fit_memory(args.op_table)
    save(model, args.out, **info)
    ui.console.print(
        f"fitted {type(model).__name__} ({model.target}, offset calibrated on "
        f"{model.n_calibration_} measured networks) -> {args.out}"
    )
    _print_metrics(type(model).__name__, info["fit_metrics"])
    return 0


def run(args: argparse.Namespace) -> int:
    if args.kind == "memory":
        return _memory(args)
    if args.kind == "prior":
        return _fit_prior(args)
    from latbench.importing_timm import is_model_table
    from latbench.predictors.data import fitted_sizes, network_data, op_data
    from latbench.predictors.learned import LearnedPredictor  # scikit-learn: only when fitting
    from latbench.predictors.lookup import LookupPredictor
    from latbench.predictors.network import NetworkPredictor

    zoo = args.op_table is None and args.networks is not None and is_model_table(args.networks)
    transfer = args.transfer_from is not None or args.target_gpu is not None or zoo
    if transfer and args.kind == "learned":
        raise LatbenchError(
            "--kind learned fits an op predictor on OP_TABLE; a transfer (--transfer-from, "
            "--target-gpu) fits the target's own costs from its shots: drop --kind"
        )
    if args.prior_from and (not transfer or args.shots == 0):
        raise LatbenchError(
            "--prior-from is read by --kind prior and by a transfer with shots "
            "(--transfer-from or --target-gpu, --shots k); this fit would not use it"
        )
    if args.target_gpu is not None and args.shots == 0:
        if args.op_table is not None:
            raise LatbenchError(
                f"{args.op_table}: a spec-sheet estimate (--target-gpu, --shots 0) measures "
                "nothing and reads no op table; leave it out"
            )
        return _spec_sheet(args)
    if args.shots == 0:
        raise LatbenchError(
            "--shots 0 needs --target-gpu (an estimate from a spec sheet); a "
            "transfer needs >= 3 shots"
        )
    if transfer:
        _distinct_sources(args)
        return _transfer(args)
    if args.op_table is None:
        raise LatbenchError("fit needs OP_TABLE (or --transfer-from with --networks)")
    ops = op_data(args.op_table, STATS[args.stat])
    model = (LookupPredictor() if args.kind == "lookup" else LearnedPredictor()).fit(
        *ops.xy, device=ops.device, table_sha256=ops.table_sha256
    )
    tables = {"ops": ops.table_sha256}
    sizes, drift = fitted_sizes(ops), ops.drift_reference
    if args.networks is not None:
        nets = network_data(args.networks, STATS[args.stat])
        if nets.device and ops.device and nets.device != ops.device:
            raise LatbenchError(
                f"{args.networks}: networks measured on {nets.device!r}, ops in "
                f"{args.op_table} on {ops.device!r}; a calibration takes both from one device "
                "(to carry a predictor to another device: --transfer-from with --shots)"
            )
        model = NetworkPredictor(model, args.composition, args.calibration).fit(*nets.xy)
        tables["networks"] = nets.table_sha256
        sizes, drift = fitted_sizes(ops, nets.archs), nets.drift_reference
    return _save(args, model, ops.device, tables, sizes, drift)
