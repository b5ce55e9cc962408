"""Few-shot transfer on published NAS-Bench-201 latencies: leave one device column out.

Data: ``data/public-latency/nasbench201_help_devices_ms.csv.gz`` (HELP's measurements of
all 15,625 cells on 13 device/batch columns, ms per forward pass of the whole batch). Each
column in turn is the target; for k = 5, 10, 20 shots drawn at random (10 seeds) the
predictors are fitted on the k shots and scored on every other connected cell: Spearman ρ,
Kendall τ, MAPE, share within ±10 %.

Disconnected cells (no input-output path without a ``none`` edge, 341 of 15,625) are left
out of shots and scores: some runtimes prune them to ~0 ms (pixel3 ~1 ms), others run the
Zero ops; neither is a network the benchmark ranks.

Rows: FLOPs (total FLOPs times a scale fitted on the shots: the zero-shot FLOPs rank), ridge on the
5 op counts (6 parameters) and on edge×op one-hots (31), ``TransferPredictor`` with the source
device's op costs as prior (``opcost``), the 4-term device model alone (``roofline``), and
``method=auto`` plus a ``DevicePrior`` learned from the OTHER 12 columns only (source-free, keyed at
batch 1); HELP's and NASFLAT's published 10-shot means. Per column: the auto transfer's mean and
worst-seed ρ and ±10 %, and its 90 % interval's coverage per fit. Source device: latbench's
paper-size CPU predictor (1 thread, AMD EPYC;
``device_profiles/cpu-amd-epyc-1t/nasbench201-paper.predictor.json``: lookup on the op table beside
it, calibrated on 30 networks). A constant prediction (a ridge shrunk to its intercept) has no
ranking and scores ρ = τ = 0. A second table: batch 32/256 from batch-1 knowledge of the same GPU.

Run: ``PYTHONPATH=. python bench/transfer_public.py`` (k = 10, 10 seeds, then the batch
table); ``--quick``: 3 seeds, no batch table (~2.5 min on the loaded 2-core VM).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV

from latbench.archs.nasbench201 import (
    CELL_EDGES,
    OP_NAMES,
    from_genotype,
    is_connected,
    parse_genotype,
)
from latbench.predictors.batch import ArchBatch, encode
from latbench.predictors.device_prior import DevicePrior
from latbench.predictors.learned import FlopsCost
from latbench.predictors.metrics import fit_metrics
from latbench.predictors.persist import load
from latbench.predictors.transfer import ExtrapolationWarning, TransferPredictor
from latbench.predictors.transfer_fit import choose_shots

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "public-latency" / "nasbench201_help_devices_ms.csv.gz"
SOURCE = ROOT / "device_profiles/cpu-amd-epyc-1t/nasbench201-paper.predictor.json"
HELP_MEAN_RHO_K10 = 0.932  # HELP (Lee et al., NeurIPS 2021), 10 shots, its unseen devices
NASFLAT_MEAN_RHO_K10 = 0.954  # NASFLAT (MLSys 2024), mean over HELP's NB201 test devices
GPU = ("1080ti", "titanx")
BATCH1_NETWORKS = 2000  # batch-1 networks the "batch-1 knowledge" is fitted on
Method = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (shot rows, y) -> predictions (all)


def ridge(features: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Ridge (α by scikit-learn's efficient LOO) on ``features`` fitted on the shots."""

    def fit(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        model = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(features[rows], y[rows])
        return model.predict(features)

    return fit


def transfer(batch: ArchBatch, source, **kw) -> Method:  # noqa: ANN001
    """A TransferPredictor fitted on the shots; ``fit.chosen`` lists the methods it picked
    and ``fit.intervals`` its 90 % interval (low, high) of every network, per fit."""

    def fit(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        model = TransferPredictor(source, **kw).fit(batch.take(rows), y[rows])
        fit.chosen.append(model.method_)
        pred, lo, hi = model.predict_interval(batch)
        fit.intervals.append((lo, hi))
        return pred

    fit.chosen, fit.intervals = [], []
    return fit


def coverage_of(
    intervals: list, y: np.ndarray, shot_rows: list[np.ndarray]
) -> list[tuple[float, float]]:
    """(share of held-out networks inside, median relative width) per fit."""
    out = []
    for (lo, hi), rows in zip(intervals, shot_rows):
        test = np.setdiff1d(np.arange(len(y)), rows)
        inside = (y[test] >= lo[test]) & (y[test] <= hi[test])
        out.append((float(inside.mean()), float(np.median((hi[test] - lo[test]) / y[test]))))
    return out


def flops_scaled(flops: np.ndarray) -> Method:
    def fit(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        return float(np.median(y[rows] / flops[rows])) * flops

    return fit


def score(
    methods: dict[str, Method], y: np.ndarray, ks: tuple[int, ...], seeds: int
) -> dict[tuple[str, int], list[dict[str, float]]]:
    out: dict[tuple[str, int], list[dict[str, float]]] = {}
    for k in ks:
        for seed in range(seeds):
            rows = choose_shots(len(y), k, seed)
            test = np.setdiff1d(np.arange(len(y)), rows)
            for name, method in methods.items():
                pred = np.maximum(method(rows, y), 1e-6)
                m = fit_metrics(pred[test], y[test])
                # a constant prediction ranks nothing: 0 in the means over seeds
                m = {key: 0.0 if v is None else v for key, v in m.items()}
                out.setdefault((name, k), []).append(m)
    return out


def features(genotypes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    cells = np.array([[OP_NAMES.index(o) for o in parse_genotype(g)] for g in genotypes])
    counts = np.stack([(cells == i).sum(axis=1) for i in range(len(OP_NAMES))], axis=1)
    onehot = np.zeros((len(cells), len(CELL_EDGES) * len(OP_NAMES)))
    for e in range(len(CELL_EDGES)):
        onehot[np.arange(len(cells)), e * len(OP_NAMES) + cells[:, e]] = 1.0
    return counts.astype(float), onehot


def at_batch(batch: ArchBatch, b: int) -> ArchBatch:
    """The same networks at batch size ``b`` (every op's leading dimension is the batch)."""
    ops = [op.replace(input_shape=(b, *op.input_shape[1:])) for op in batch.ops]
    return ArchBatch(ops, batch.groups, batch.n)


def summarise(results: dict, title: str) -> None:
    print(f"\n{title}")
    print(
        f"{'method':34s} {'k':>3s} {'Spearman ρ':>10s} {'Kendall τ':>9s} {'MAPE %':>7s} "
        f"{'±10 %':>6s} {'min ±10 % GPU':>13s}"
    )
    for (name, k), per_col in results.items():
        m = {
            key: np.mean([np.mean([r[key] for r in runs]) for runs in per_col.values()])
            for key in ("spearman_rho", "kendall_tau", "mape_pct", "within_10pct")
        }
        gpu = [
            np.mean([r["within_10pct"] for r in runs])
            for c, runs in per_col.items()
            if c.startswith(GPU)
        ]
        print(
            f"{name:34s} {k:3d} {m['spearman_rho']:10.3f} {m['kendall_tau']:9.3f} "
            f"{m['mape_pct']:7.1f} {100 * m['within_10pct']:5.1f}% "
            f"{(f'{100 * min(gpu):12.1f}%' if gpu else '-'):>13s}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--ks", default="10")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="3 seeds, k = 10, no batch table, prior from 1,000 networks per column",
    )
    ap.add_argument("--columns", default="", help="only these target columns (comma-separated)")
    ap.add_argument("--data", type=Path, default=DATA, help=f"default: {DATA.relative_to(ROOT)}")
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.ks = min(args.seeds, 3), "10"
    ks = tuple(int(k) for k in args.ks.split(","))
    t0 = time.perf_counter()
    df = pd.read_csv(args.data)
    connected = np.array([is_connected(g) for g in df["arch_str"]])
    df = df[connected].reset_index(drop=True)
    columns = [c for c in df.columns if c not in ("arch_index", "arch_str")]
    targets = [c for c in columns if not args.columns or c in args.columns.split(",")]
    batch = encode([from_genotype(g) for g in df["arch_str"]])
    counts, onehot = features(list(df["arch_str"]))
    source = load(SOURCE)
    flops = batch.counts() @ FlopsCost().predict(batch.ops)
    print(
        f"{len(df)} connected cells of {len(connected)} ({(~connected).sum()} disconnected "
        f"left out), {len(columns)} columns; networks built in {time.perf_counter() - t0:.0f} s"
    )
    warnings.simplefilter("ignore", ExtrapolationWarning)
    # the CPU source's op table has batch 1 and 64: its lookup extrapolates batch-256 ops
    warnings.filterwarnings("ignore", message=".*extrapolated beyond the measured shapes")
    results: dict = {}
    chosen: dict[str, list[str]] = {}
    cover: dict[str, list[tuple[float, float]]] = {}
    for col in targets:
        y = df[col].to_numpy(dtype=np.float64)
        others = {c: (batch, df[c].to_numpy(dtype=np.float64)) for c in columns if c != col}
        prior = DevicePrior.fit_devices(others, max_networks=1000 if args.quick else 3000)
        auto = transfer(batch, source, prior=prior)
        methods = {
            "FLOPs (scaled on shots)": flops_scaled(flops),
            "ridge, 5 op counts (6 params)": ridge(counts),
            "ridge, edge×op one-hot (31)": ridge(onehot),
            "transfer opcost, source prior": transfer(batch, source, method="opcost"),
            "transfer roofline (4 terms)": transfer(batch, source, method="roofline"),
            "transfer auto + learned prior": auto,
        }
        for key, runs in score(methods, y, ks, args.seeds).items():
            results.setdefault(key, {})[col] = runs
        chosen[col] = auto.chosen
        shot_rows = [choose_shots(len(y), k, seed) for k in ks for seed in range(args.seeds)]
        cover[col] = coverage_of(auto.intervals, y, shot_rows)
        print(f"  {col}: done at {time.perf_counter() - t0:.0f} s", flush=True)
    summarise(
        dict(sorted(results.items(), key=lambda kv: (kv[0][1], list(results).index(kv[0])))),
        f"leave-one-column-out, mean over {len(targets)} columns × {args.seeds} seeds",
    )
    print(f"{'HELP published (its 4 unseen devices)':34s}  10 {HELP_MEAN_RHO_K10:10.3f}")
    print(f"{'NASFLAT published (HELP devices)':34s}  10 {NASFLAT_MEAN_RHO_K10:10.3f}")
    k = 10 if 10 in ks else ks[0]
    per_column(
        results,
        {c: v[ks.index(k) * args.seeds :][: args.seeds] for c, v in chosen.items()},
        {c: v[ks.index(k) * args.seeds :][: args.seeds] for c, v in cover.items()},
        k,
    )
    if not args.quick:
        batch_table(df, batch, source, ks, args.seeds)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


PER_COLUMN = (
    "transfer auto + learned prior",
    "ridge, 5 op counts (6 params)",
    "FLOPs (scaled on shots)",
    "transfer roofline (4 terms)",
)


def per_column(
    results: dict,
    chosen: dict[str, list[str]],
    cover: dict[str, list[tuple[float, float]]],
    k: int,
    names: tuple[str, ...] = PER_COLUMN,
) -> None:
    """Per column: mean and worst-seed ρ, share within ±10 %, and the interval's per-fit
    coverage of the chosen transfer (``names[0]``); the baselines' (``names[1:]``) mean
    ρ / ±10 % beside it."""
    print(
        f"\nper column at k = {k}: transfer auto ρ mean / worst seed, ±10 % mean / worst; "
        "90 % interval: fits with coverage >= 85 %, mean coverage, median width; baselines "
        "ρ / ±10 %"
    )
    fits = []
    for col in chosen:
        runs = results[(names[0], k)][col]
        rho = [r["spearman_rho"] for r in runs]
        w10 = [100 * r["within_10pct"] for r in runs]
        cov = [c for c, _ in cover[col]]
        fits += cov
        base = [
            f"{np.mean([r['spearman_rho'] for r in results[(n, k)][col]]):.3f} / "
            f"{100 * np.mean([r['within_10pct'] for r in results[(n, k)][col]]):4.1f}%"
            for n in names[1:]
        ]
        picks = pd.Series(chosen[col])
        print(
            f"  {col:15s} ρ {np.mean(rho):.3f} / {min(rho):.3f}  ±10 % {np.mean(w10):4.1f} / "
            f"{min(w10):4.1f}%  interval {sum(c >= 0.85 for c in cov)}/{len(cov)} "
            f"{100 * np.mean(cov):4.1f}% w {np.median([w for _, w in cover[col]]):.2f}  "
            "| "
            + "  ".join(f"{n.split(' (')[0]} {c}" for n, c in zip(names[1:], base))
            + f"  chosen { ({m: int(n) for m, n in picks.value_counts().items()}) }"
        )
    print(
        f"  interval: {100 * np.mean(np.array(fits) >= 0.85):.0f} % of {len(fits)} fits "
        "cover >= 85 % of held-out networks at the stated 90 %"
    )


def batch_table(
    df: pd.DataFrame,
    batch: ArchBatch,
    source,
    ks: tuple[int, ...],  # noqa: ANN001
    seeds: int,
) -> None:
    """Batch 32/256 from the same GPU's batch-1 op costs (all batch-1 networks) + k shots."""
    print(
        "\nbatch size: target at batch b, prior = the same GPU's op costs fitted on its "
        f"batch-1 column ({BATCH1_NETWORKS} random networks); mean over {seeds} seeds"
    )
    print(
        f"{'target':12s} {'k':>3s} {'batch-1 prior ρ / ±10 %':>24s} "
        f"{'CPU-source prior ρ / ±10 %':>27s}"
    )
    for gpu in GPU:
        rows = choose_shots(batch.n, BATCH1_NETWORKS, seed=1)
        one = TransferPredictor(source, method="opcost", alphas=(1e-3,)).fit(
            batch.take(rows), df[f"{gpu}_1"].to_numpy(dtype=np.float64)[rows]
        )
        for b in (32, 256):
            target = at_batch(batch, b)
            y = df[f"{gpu}_{b}"].to_numpy(dtype=np.float64)
            methods = {
                "b1": transfer(target, one, method="opcost"),
                "cpu": transfer(target, source, method="opcost"),
            }
            res = score(methods, y, ks, seeds)
            for k in ks:
                cells = [
                    f"{np.mean([r['spearman_rho'] for r in res[(m, k)]]):.3f} / "
                    f"{100 * np.mean([r['within_10pct'] for r in res[(m, k)]]):4.1f}%"
                    for m in ("b1", "cpu")
                ]
                print(f"{gpu}_{b:<5d} {k:3d} {cells[0]:>24s} {cells[1]:>27s}")


if __name__ == "__main__":
    main()
