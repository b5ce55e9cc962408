"""Few-shot transfer on published OFA MobileNetV3 latencies: leave one GPU column out.

The OFA twin of ``bench/transfer_public.py`` (same scoring and table code, imported from it).
Data: ``data/public-latency/ofa_mbv3_help_devices_ms.csv.gz`` (HELP: 5,000 subnets,
RTX 2080 Ti and Titan Xp at batch 1/32/64, ms per forward pass of the whole batch), built
as ``ofa-mbv3`` networks at width 1.2 (``bench/ofa_width.py``). Each column in turn is the
target; for k = 5, 10, 20 shots (10 seeds) every method is fitted on the k shots and scored
on the other 5,000 − k subnets: Spearman ρ, Kendall τ, MAPE, share within ±10 %.

Rows: FLOPs (affine fit on the shots; its ranking is the zero-shot FLOPs rank), ridge on op
counts (45 (stage, kernel, expand) block counts + resolution), the total depth Σd (affine on
the shots: the launch-bound baseline), the 4-term device model alone (``roofline``), the other
column that ranks
the shots most alike mapped log-linearly (what leaving one column out offers without a learned
prior), and ``TransferPredictor``
(predictors/transfer.py, ``method=auto``) from latbench's CPU table of the space (1 thread,
``device_profiles/cpu-amd-epyc-1t/ofa-mbv3-*.csv``, lifted by ``LearnedPredictor`` to any
op). The transfer is fitted on the shots' own ops (~200 of the ~2,400 resolution-specific
ops; the others take the source's cost × the fitted scale, or the device model's cost when
``opcost-roofline`` wins): a fit over all 2,400 ops is one
2,400-variable NNLS per candidate (≈100 s each here), and the learned cross-device prior of
``transfer_public.py`` needs dozens of them per column. Second table: batch transfer on one
GPU (batch 1 -> 32 -> 64), log-linear maps fitted on k shots of the larger batch.

Last: the ceiling (``bench/ofa_ceiling.py``): per column, the other GPU's column at the same
batch mapped on all rows, a gradient-boosted model on the encoding 5-fold cross-validated on
all 5,000 subnets, and this transfer at k = 10/100/1,000 (``--ceiling-ks``), i.e. what the
data allows and how close latbench's transfer gets with many shots.

Run: ``PYTHONPATH=. python bench/transfer_ofa.py`` (``--quick``: 1,000 subnets, 3 seeds, k = 10;
``--ceiling-only`` for the ceiling alone, ``--ceiling-ks 10`` makes that < 2 min).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ofa_ceiling import ceiling_rows, encoding_features, print_ceiling, transfer_rows  # noqa: E402
from transfer_public import coverage_of, per_column, ridge, score, summarise  # noqa: E402

from latbench.archs.ofa_mbv3 import (  # noqa: E402
    EXPANDS,
    KERNELS,
    MAX_DEPTH,
    N_STAGES,
    build_network,
    config_from_columns,
)
from latbench.predictors.batch import ArchBatch, encode  # noqa: E402
from latbench.predictors.learned import FlopsCost, LearnedPredictor  # noqa: E402
from latbench.predictors.transfer import ExtrapolationWarning, TransferPredictor  # noqa: E402
from latbench.predictors.transfer_fit import choose_shots  # noqa: E402

warnings.filterwarnings("ignore", message="An input array is constant")

DATA = ROOT / "data" / "public-latency" / "ofa_mbv3_help_devices_ms.csv.gz"
SOURCES = ("ofa-mbv3-small.csv", "ofa-mbv3-paper-b1-sample300.csv")
PROFILES = ROOT / "device_profiles/cpu-amd-epyc-1t"
GPUS = ("2080ti", "titan_xp")
WIDTH = 1.2


def count_features(df: pd.DataFrame) -> np.ndarray:
    """Per subnet: how many blocks of each (stage, kernel, expand), then the resolution."""
    out = np.zeros((len(df), N_STAGES * len(KERNELS) * len(EXPANDS) + 1))
    for i, (ks, e, d, r) in enumerate(df[["ks", "e", "d", "r"]].itertuples(index=False)):
        c = config_from_columns(ks, e, d, r, WIDTH)
        for slot in c.active_slots():
            stage = slot // MAX_DEPTH
            out[
                i,
                (stage * len(KERNELS) + KERNELS.index(c.ks[slot])) * len(EXPANDS)
                + EXPANDS.index(c.e[slot]),
            ] += 1
        out[i, -1] = c.r
    return out


def transfer_on_shots(archs: list, batch: ArchBatch, source, **kw):  # noqa: ANN001, ANN201
    """TransferPredictor fitted on the shots' own ops, scored on every network; ``fit.chosen``
    and ``fit.intervals`` (low, high per network) record each fit."""

    def fit(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        model = TransferPredictor(source, **kw).fit(encode([archs[i] for i in rows]), y[rows])
        fit.chosen.append(model.method_)
        pred, lo, hi = model.predict_interval(batch)
        fit.intervals.append((lo, hi))
        return pred

    fit.chosen, fit.intervals = [], []
    return fit


def total_depth(df: pd.DataFrame):  # noqa: ANN201
    """latency = a + b · Σ d (the subnet's block count) fitted on the shots: the launch-bound
    baseline (its ranking is the total-depth rank)."""
    depth = np.array([sum(int(v) for v in d.split("-")) for d in df["d"]], dtype=np.float64)

    def fit(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        b, a = np.polyfit(depth[rows], y[rows], 1)
        return a + b * depth + rng_tie(len(depth))

    return fit


def rng_tie(n: int) -> np.ndarray:
    """A 1e-9 ms jitter so equal depths tie-break at random, not by row order."""
    return np.random.default_rng(0).uniform(0, 1e-9, n)


def nearest_column(others: dict[str, np.ndarray]):  # noqa: ANN201
    """Leave-one-column-out knowledge without a learned prior: the other column whose values
    on the k shots rank them most like the target (Spearman on the shots), mapped by
    ``log y = a + b log x`` fitted on the shots."""

    def fit(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        rho = {c: spearmanr(x[rows], y[rows])[0] for c, x in others.items()}
        best = max(rho, key=lambda c: -np.inf if not np.isfinite(rho[c]) else rho[c])
        b, a = np.polyfit(np.log(others[best][rows]), np.log(y[rows]), 1)
        return np.exp(a + b * np.log(others[best]))

    return fit


def flops_affine(flops: np.ndarray):  # noqa: ANN201
    """latency = a + b · FLOPs fitted on the shots (a > 0 carries the launch overhead that
    dominates batch 1); its ranking is the FLOPs rank."""

    def fit(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        b, a = np.polyfit(flops[rows], y[rows], 1)
        return a + b * flops

    return fit


def loglinear_from(x: np.ndarray):  # noqa: ANN201
    """log y = a + b log x fitted on the shots."""

    def fit(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        b, a = np.polyfit(np.log(x[rows]), np.log(y[rows]), 1)
        return np.exp(a + b * np.log(x))

    return fit


def no_ranking_as_zero(runs: list[dict[str, float]]) -> int:
    """A fit that predicts one value for every subnet ranks nothing: its ρ and τ (NaN from
    scipy) count as 0. Returns how many runs that was."""
    n = 0
    for r in runs:
        if not np.isfinite(r["spearman_rho"]):
            r["spearman_rho"], r["kendall_tau"], n = 0.0, 0.0, n + 1
    return n


def cpu_source() -> LearnedPredictor:
    frames = [pd.read_csv(PROFILES / name) for name in SOURCES if (PROFILES / name).is_file()]
    if not frames:
        raise SystemExit(f"no CPU table of ofa-mbv3 under {PROFILES}")
    return LearnedPredictor().fit(pd.concat(frames, ignore_index=True))


def batch_table(df: pd.DataFrame, flops: np.ndarray, ks: tuple[int, ...], seeds: int) -> None:
    """Batch 32/64 of a GPU from its batch-1 column (and FLOPs), k shots of the target."""
    print(
        "\nbatch transfer on one GPU: log-linear map of the same subnet's batch-1 (or "
        "batch-32) latency, fitted on k shots of the target batch; FLOPs for comparison"
    )
    print(
        f"{'target':14s} {'k':>3s} {'from batch 1 ρ / ±10 %':>23s} "
        f"{'from batch 32 ρ / ±10 %':>24s} {'FLOPs affine ρ / ±10 %':>23s}"
    )
    for gpu in GPUS:
        for b, prev in ((32, 1), (64, 32)):
            y = df[f"{gpu}_{b}"].to_numpy(dtype=np.float64)
            methods = {
                "b1": loglinear_from(df[f"{gpu}_1"].to_numpy(dtype=np.float64)),
                "prev": loglinear_from(df[f"{gpu}_{prev}"].to_numpy(dtype=np.float64)),
                "flops": flops_affine(flops),
            }
            res = score(methods, y, ks, seeds)
            for k in ks:
                cells = [
                    f"{np.mean([r['spearman_rho'] for r in res[(m, k)]]):.3f} / "
                    f"{100 * np.mean([r['within_10pct'] for r in res[(m, k)]]):4.1f}%"
                    for m in ("b1", "prev", "flops")
                ]
                if b == 32:
                    cells[1] = "(= batch 1)"
                print(f"{gpu}_{b:<7d} {k:3d} {cells[0]:>23s} {cells[1]:>24s} {cells[2]:>23s}")


def ceiling(
    df: pd.DataFrame,
    columns: list[str],
    archs: list,
    batch: ArchBatch,
    source,
    ks: tuple[int, ...],
    seeds: int,
) -> None:  # noqa: ANN001
    """The ceiling tables of ``ofa_ceiling`` (its docstring says what each part bounds)."""
    t0 = time.perf_counter()
    table = ceiling_rows(df, columns, encoding_features(df, WIDTH))
    print(f"  ceiling (a), (b): {time.perf_counter() - t0:.0f} s", flush=True)

    def log(message: str) -> None:
        print(f"{message} at {time.perf_counter() - t0:.0f} s", flush=True)

    transfer = None
    if ks:
        transfer = transfer_rows(
            df, columns, lambda: transfer_on_shots(archs, batch, source), ks, seeds, log
        )
    print_ceiling(table, transfer, len(df))


def few_shot_tables(
    df: pd.DataFrame,
    columns: list[str],
    archs: list,
    batch: ArchBatch,
    source,
    ks: tuple[int, ...],
    seeds: int,
    t0: float,  # noqa: ANN001
    quick: bool = False,
) -> None:
    flops = batch.counts() @ FlopsCost().predict(batch.ops)
    counts = count_features(df)
    print(
        "agreement between the columns themselves (Spearman ρ over all subnets): what one "
        "GPU column says about another"
    )
    print(df[columns].corr(method="spearman").round(3).to_string(), flush=True)
    results: dict = {}
    chosen: dict[str, list[str]] = {}
    cover: dict[str, list[tuple[float, float]]] = {}
    for col in columns:
        y = df[col].to_numpy(dtype=np.float64)
        auto = transfer_on_shots(archs, batch, source)
        methods = {
            "FLOPs (affine on shots)": flops_affine(flops),
            "ridge, 45 block counts + r": ridge(counts),
            "total depth Σd (affine on shots)": total_depth(df),
            "transfer roofline (4 terms)": transfer_on_shots(
                archs, batch, source, method="roofline"
            ),
            "transfer auto, CPU source": auto,
            "nearest other column, log map": nearest_column(
                {c: df[c].to_numpy(dtype=np.float64) for c in columns if c != col}
            ),
        }
        flat = 0
        for key, runs in score(methods, y, ks, seeds).items():
            flat += no_ranking_as_zero(runs)
            results.setdefault(key, {})[col] = runs
        shot_rows = [choose_shots(len(y), k, seed) for k in ks for seed in range(seeds)]
        chosen[col] = auto.chosen
        cover[col] = coverage_of(auto.intervals, y, shot_rows)
        print(
            f"  {col}: done at {time.perf_counter() - t0:.0f} s ({flat} fits predicted one "
            "value for all: ρ = τ = 0)",
            flush=True,
        )
    summarise(
        dict(sorted(results.items(), key=lambda kv: (kv[0][1], list(results).index(kv[0])))),
        f"each GPU column as target (the others used only by 'nearest other column'), "
        f"mean over {len(columns)} columns × {seeds} seeds",
    )
    k = 10 if 10 in ks else ks[0]
    per_column(
        results,
        {c: v[ks.index(k) * seeds :][:seeds] for c, v in chosen.items()},
        {c: v[ks.index(k) * seeds :][:seeds] for c, v in cover.items()},
        k,
        (
            "transfer auto, CPU source",
            "ridge, 45 block counts + r",
            "FLOPs (affine on shots)",
            "total depth Σd (affine on shots)",
            "transfer roofline (4 terms)",
            "nearest other column, log map",
        ),
    )
    if not quick:
        batch_table(df, flops, ks, seeds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--ks", default="5,10,20")
    ap.add_argument("--n", type=int, default=5000, help="first N subnets (default: all)")
    ap.add_argument("--data", type=Path, default=DATA, help=f"default: {DATA.relative_to(ROOT)}")
    ap.add_argument("--ceiling-only", action="store_true", help="only the ceiling tables")
    ap.add_argument(
        "--ceiling-ks",
        default="10,100,1000",
        help="shots of the ceiling's transfer rows ('' for none)",
    )
    ap.add_argument("--ceiling-seeds", type=int, default=1)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="1,000 subnets, 3 seeds, k = 10, no batch or ceiling tables",
    )
    args = ap.parse_args()
    if args.quick:
        args.n, args.seeds, args.ks = min(args.n, 1000), min(args.seeds, 3), "10"
    t0 = time.perf_counter()
    df = pd.read_csv(args.data).head(args.n)
    columns = [c for c in df.columns if c.startswith(GPUS)]
    archs = [
        build_network(config_from_columns(ks_, e, d, r, WIDTH))
        for ks_, e, d, r in df[["ks", "e", "d", "r"]].itertuples(index=False)
    ]
    batch = encode(archs)
    source = cpu_source()
    print(
        f"{len(df)} subnets (width {WIDTH}), {len(batch.ops)} distinct ops, "
        f"{len(columns)} GPU columns; built in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    warnings.simplefilter("ignore", ExtrapolationWarning)
    if not args.ceiling_only:
        few_shot_tables(
            df,
            columns,
            archs,
            batch,
            source,
            tuple(int(k) for k in args.ks.split(",")),
            args.seeds,
            t0,
            args.quick,
        )
    if args.quick:
        return
    ceiling(
        df,
        columns,
        archs,
        batch,
        source,
        tuple(int(k) for k in args.ceiling_ks.split(",") if k),
        args.ceiling_seeds,
    )
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
