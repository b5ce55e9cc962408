"""Which OFA width multiplier (1.0 or 1.2) do the published HELP latencies come from?

For every subnet of ``ofa_mbv3_help_devices_ms.csv.gz`` this builds the network at both widths
and compares, per latency column, how well the analytic cost of each width explains the
measured latency: Spearman ρ of MACs and of parameters with latency, and the R² of a
least-squares fit ``log latency = a + b·log MACs + c·log params + d·log r`` (the per-image
cost terms), and a bootstrap (rows resampled, 1,000 times) of the paired difference
ρ(MACs at 1.2) − ρ(MACs at 1.0). The width whose cost explains the measurements better is
the one measured; the compute-bound columns (batch 32/64) carry the evidence, since launch
overheads dominate batch 1.

    PYTHONPATH=. python bench/ofa_width.py [--csv PATH] [--n 5000] [--costs costs.csv]

``--costs`` keeps the per-subnet MACs/params (plain CSV) so that a re-run skips the ~10 min of
building 10,000 networks' features.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from latbench.archs.ofa_mbv3 import build_network, config_from_columns

DEFAULT_CSV = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "public-latency"
    / "ofa_mbv3_help_devices_ms.csv.gz"
)
COLUMNS = ("2080ti_1", "2080ti_32", "2080ti_64", "titan_xp_1", "titan_xp_32", "titan_xp_64")


def costs(frame: pd.DataFrame, width: float) -> pd.DataFrame:
    """MACs and parameters (OFA counting) of every row's subnet at ``width``."""
    rows = []
    for ks, e, d, r in frame[["ks", "e", "d", "r"]].itertuples(index=False):
        ops = build_network(config_from_columns(ks, e, d, r, width)).ops()
        rows.append(
            (sum(o.features()["flops"] for o in ops) / 2, sum(o.features()["params"] for o in ops))
        )
    return pd.DataFrame(rows, columns=["macs", "params"], index=frame.index)


def r2_loglinear(c: pd.DataFrame, r: np.ndarray, y: np.ndarray) -> float:
    X = np.column_stack([np.ones(len(y)), np.log(c["macs"]), np.log(c["params"]), np.log(r)])
    coef, *_ = np.linalg.lstsq(X, np.log(y), rcond=None)
    resid = np.log(y) - X @ coef
    return 1.0 - resid.var() / np.log(y).var()


def bootstrap_diff(
    a: np.ndarray, b: np.ndarray, y: np.ndarray, n: int = 1000, seed: int = 0
) -> tuple[float, float, float]:
    """Share of resamples where ρ(a, y) > ρ(b, y), and the 2.5 / 97.5 % quantiles of the
    difference ρ(a, y) − ρ(b, y)."""
    rng = np.random.default_rng(seed)
    ra, rb, ry = (pd.Series(v).rank().to_numpy() for v in (a, b, y))
    diffs = []
    for _ in range(n):
        i = rng.integers(0, len(y), len(y))
        diffs.append(np.corrcoef(ra[i], ry[i])[0, 1] - np.corrcoef(rb[i], ry[i])[0, 1])
    d = np.asarray(diffs)
    return float((d > 0).mean()), float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))


def load_costs(frame: pd.DataFrame, path: Path | None) -> dict[float, pd.DataFrame]:
    """Per-width costs, from ``path`` when it holds them, else computed (and saved there)."""
    if path is not None and path.exists():
        saved = pd.read_csv(path)
        if len(saved) >= len(frame):
            return {
                w: saved[[f"macs_{w}", f"params_{w}"]]
                .head(len(frame))
                .set_axis(["macs", "params"], axis=1)
                .set_index(frame.index)
                for w in (1.0, 1.2)
            }
    by_width = {w: costs(frame, w) for w in (1.0, 1.2)}
    if path is not None:
        pd.DataFrame(
            {f"{k}_{w}": c[k].to_numpy() for w, c in by_width.items() for k in ("macs", "params")}
        ).to_csv(path, index=False)
    return by_width


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--n", type=int, default=5000, help="first N rows")
    ap.add_argument("--costs", type=Path, default=None, help="cache of the per-subnet costs")
    args = ap.parse_args()
    frame = pd.read_csv(args.csv).head(args.n)
    by_width = load_costs(frame, args.costs)
    print(f"{len(frame)} subnets of {args.csv.name}")
    print(
        f"{'column':<12} {'width':>5} {'ρ(MACs)':>8} {'ρ(params)':>9} {'R² log-fit':>10}   "
        "bootstrap ρ(MACs) 1.2 − 1.0: P(>0) [95 % interval]"
    )
    for col in COLUMNS:
        y = frame[col].to_numpy(float)
        for w, c in by_width.items():
            rho_m = spearmanr(c["macs"], y)[0]
            rho_p = spearmanr(c["params"], y)[0]
            r2 = r2_loglinear(c, frame["r"].to_numpy(float), y)
            tail = ""
            if w == 1.2:
                share, lo, hi = bootstrap_diff(
                    c["macs"].to_numpy(), by_width[1.0]["macs"].to_numpy(), y
                )
                tail = f"   {share:.3f} [{lo:+.4f}, {hi:+.4f}]"
            print(f"{col:<12} {w:>5.1f} {rho_m:>8.4f} {rho_p:>9.4f} {r2:>10.4f}{tail}")


if __name__ == "__main__":
    main()
