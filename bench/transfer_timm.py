"""Few-shot transfer on timm's published model-zoo latencies: leave one column out.

Data: the three ``data/public-latency/timm/benchmark-infer-*.csv`` files (pytorch-image-models'
own measurements of ~1,400 (model, image size) pairs: RTX 3090 AMP NCHW, RTX 3090 AMP
channels-last, i9-10940X CPU fp32 torch.compile), read by ``latbench.importing_timm``; models
the installed timm does not know are left out (counted). Per-model features are counted on
the meta device (``latbench.model_features``), read from a CSV cache when present
(``--features``, default the shipped ``data/public-latency/timm/latbench-features.csv``).

Each column in turn is the target; the other two are the source columns (every model
measured there). For k = 10 and 50 shots drawn at random (``--seeds`` seeds) among the models
of the target column, two predictors are fitted on the same k shots and scored on every other
model of the column: latbench's ``ModelTransferPredictor`` (method chosen by leave-one-out on
the shots) and the issue's baseline, a log-linear fit of ms per image on timm's published
MACs, params and activations (``infer_gmacs``, ``param_count``, ``infer_macts``) plus log
batch. Scores: Spearman ρ, Kendall τ, share within ±10 %. Latency is ms per forward pass of
the row's batch; the rows of a GPU column differ in batch (1024, lowered after OOM).

Run: ``python bench/transfer_timm.py`` (``--seeds 3`` for a quick look).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from latbench.errors import LatbenchError
from latbench.importing_timm import ModelNetworks, changed_model, read_timm
from latbench.model_features import FEATURES, FeatureCache, features_of
from latbench.model_loader import import_library
from latbench.predictors.metrics import accuracy
from latbench.predictors.model_transfer import (
    ModelTransferPredictor,
    SourceColumn,
    ridge,
    ridge_predict,
)
from latbench.predictors.transfer_fit import choose_shots

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "public-latency" / "timm"
COLUMNS = {
    "3090 AMP NCHW": "benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv",
    "3090 AMP NHWC": "benchmark-infer-amp-nhwc-pt240-cu124-rtx3090.csv",
    "i9 CPU fp32 compiled": "benchmark-infer-fp32-nchw-pt240-cpu-i9_10940x-dynamo.csv",
}
BAR = {"spearman_rho": 0.95, "within_10pct": 0.70}  # the bar at k = 50


def load_columns(
    features: Path, cached_only: bool = False
) -> tuple[dict[str, ModelNetworks], dict[str, np.ndarray]]:
    """Per column: its models (with features) and timm's published (MACs, params, acts)."""
    timm = import_library("timm")
    cache = FeatureCache(features, f"timm {timm.__version__}")
    if cached_only:
        cache.path = None  # never written

        def compute(name: str, size: int) -> dict[str, float]:
            raise LatbenchError("not in the cache (--cached-only)")

    nets, published = {}, {}
    for name, file in COLUMNS.items():
        rows = read_timm(DATA / file)
        known = [r for r in rows if timm.is_model(r.model)]
        t0 = time.perf_counter()
        feats, failed = features_of(
            ((r.model, r.img_size) for r in known),
            cache,
            **({"compute": compute} if cached_only else {}),
        )
        keep = [
            r
            for r in known
            if (r.model, r.img_size) in feats
            and not changed_model(r, feats[(r.model, r.img_size)], cache.library)
            and all(
                r.published.get(c, 0) > 0 for c in ("infer_gmacs", "param_count", "infer_macts")
            )
        ]
        nets[name] = ModelNetworks(
            [r.model for r in keep],
            np.array([r.img_size for r in keep]),
            np.array([r.batch for r in keep]),
            np.array([[feats[(r.model, r.img_size)][f] for f in FEATURES] for r in keep]),
            np.array([r.step_ms for r in keep]),
            device=name,
        )
        published[name] = np.array(
            [
                [r.published["infer_gmacs"], r.published["param_count"], r.published["infer_macts"]]
                for r in keep
            ]
        )
        print(
            f"{name}: {len(rows)} rows, {len(rows) - len(known)} names unknown to timm "
            f"{timm.__version__}, {len(failed)} without features "
            f"({'not cached' if cached_only else 'failed on the meta device'}), "
            f"{len(keep)} used (features {time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    return nets, published


def loglinear_baseline(
    published: np.ndarray, batch: np.ndarray, y: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """log(ms / image) = a + b · log(MACs, params, activations) + c · log batch, least squares
    on the shots (a ridge with negligible α)."""
    X = np.c_[np.log(published), np.log(batch)]
    w, stats = ridge(X[rows], np.log(y[rows] / batch[rows]), 1e-9)
    return np.exp(ridge_predict(X, w, stats)) * batch


def score(pred: np.ndarray, y: np.ndarray, test: np.ndarray) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return accuracy(pred[test], y[test])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--ks", default="10,50")
    ap.add_argument(
        "--features",
        type=Path,
        default=DATA / "latbench-features.csv",
        help="feature cache CSV (read, and extended for models it lacks)",
    )
    ap.add_argument(
        "--cached-only",
        action="store_true",
        help="use only the models whose features are cached (a quick look)",
    )
    args = ap.parse_args()
    ks = tuple(int(k) for k in args.ks.split(","))
    t0 = time.perf_counter()
    nets, published = load_columns(args.features, args.cached_only)
    results: dict[tuple[str, str, int], list[dict[str, float]]] = {}
    chosen: dict[tuple[str, int], list[str]] = {}
    errors: dict[str, np.ndarray] = {}
    for target, tnets in nets.items():
        sources = [
            SourceColumn.fit(n, s.keys, s.features, s.latency_ms / s.batch)
            for n, s in nets.items()
            if n != target
        ]
        y = tnets.latency_ms
        for k in ks:
            rel = []
            for seed in range(args.seeds):
                rows = choose_shots(len(y), k, seed)
                test = np.setdiff1d(np.arange(len(y)), rows)
                model = ModelTransferPredictor(FEATURES, sources, device=target).fit(
                    tnets.take(rows), y[rows]
                )
                pred = model.predict(tnets)
                chosen.setdefault((target, k), []).append(model.method_)
                results.setdefault((target, "latbench model transfer", k), []).append(
                    score(pred, y, test)
                )
                base = loglinear_baseline(published[target], tnets.batch, y, rows)
                results.setdefault((target, "log-linear (MACs, params, acts)", k), []).append(
                    score(base, y, test)
                )
                if k == max(ks):
                    rel.append(np.where(np.isin(np.arange(len(y)), test), pred / y - 1, np.nan))
            if k == max(ks):
                errors[target] = np.nanmedian(np.array(rel), axis=0)
        print(f"  {target}: done at {time.perf_counter() - t0:.0f} s", flush=True)
    print(
        f"\nleave-one-column-out, {args.seeds} seeds; shots drawn among the target column's "
        "models, scored on the rest (mean over seeds; min over seeds in brackets)"
    )
    print(
        f"{'target column':22s} {'k':>3s} {'method':32s} {'Spearman ρ':>16s} "
        f"{'Kendall τ':>9s} {'±10 %':>14s}  chosen"
    )
    for (target, name, k), runs in sorted(results.items(), key=lambda kv: (kv[0][2], kv[0][0])):
        rho = [r["spearman_rho"] for r in runs]
        tau = [r["kendall_tau"] for r in runs]
        w10 = [r["within_10pct"] for r in runs]
        picks = ""
        if name.startswith("latbench"):
            values, counts = np.unique(chosen[(target, k)], return_counts=True)
            picks = ", ".join(f"{v} {c}" for v, c in zip(values, counts))
        print(
            f"{target:22s} {k:3d} {name:32s} {np.mean(rho):7.3f} ({min(rho):.3f}) "
            f"{np.mean(tau):9.3f} {100 * np.mean(w10):5.1f}% ({100 * min(w10):4.1f}%)  {picks}"
        )
    k = max(ks)
    print(
        f"\nbar at k = {k}: Spearman ρ >= {BAR['spearman_rho']}, >= "
        f"{100 * BAR['within_10pct']:.0f} % within ±10 %"
    )
    for target in nets:
        runs = results[(target, "latbench model transfer", k)]
        rho = np.mean([r["spearman_rho"] for r in runs])
        w10 = np.mean([r["within_10pct"] for r in runs])
        ok = rho >= BAR["spearman_rho"] and w10 >= BAR["within_10pct"]
        print(f"  {target:22s} ρ {rho:.3f}, ±10 % {100 * w10:.1f}%: {'met' if ok else 'NOT met'}")
    worst(nets, errors)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


def family(name: str) -> str:
    """A timm model's family: its name up to the first digit or underscore."""
    import re

    return re.split(r"[\d_]", name, maxsplit=1)[0] or name


def worst(nets: dict[str, ModelNetworks], errors: dict[str, np.ndarray]) -> None:
    """Per column at the largest k: the families with the largest median |error|."""
    print(
        "\nwhere the largest errors are (median relative error over seeds, per model; "
        "families with >= 5 models)"
    )
    for target, err in errors.items():
        names = nets[target].names
        fams: dict[str, list[float]] = {}
        for n, e in zip(names, err):
            if np.isfinite(e):
                fams.setdefault(family(n), []).append(e)
        rows = sorted(
            (
                (np.median(np.abs(v)), np.median(v), f, len(v))
                for f, v in fams.items()
                if len(v) >= 5
            ),
            reverse=True,
        )[:6]
        within = np.mean(np.abs(err[np.isfinite(err)]) <= 0.1)
        print(
            f"  {target}: {100 * within:.1f}% of models within ±10 % (median over seeds); "
            "worst: "
            + "; ".join(
                f"{f} ({n}) |err| {100 * a:.0f}% (bias {100 * b:+.0f}%)" for a, b, f, n in rows
            )
        )


if __name__ == "__main__":
    main()
