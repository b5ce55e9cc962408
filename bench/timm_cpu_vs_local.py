"""Does a CPU measured here stand in for timm's published i9 CPU column?

Joins the models of ``bench/model_zoo.py``'s networks table (measured whole here: eager
PyTorch, one thread, the zoo's input size) with the rows of timm's i9-10940X column (fp32,
``torch.compile``, its own input sizes) and scores leave-one-out ridge fits of the i9's log
latency on: latbench's features (log FLOPs, params, activations, op count), the same plus the
local latency, plus the RTX 3090 NCHW column, and the local latency alone. Prints within ±10 %,
Spearman ρ and MAPE per regressor set, side by side.

    python bench/model_zoo.py --out out/zoo      # the zoo's tables (about 25 min)
    python bench/timm_cpu_vs_local.py out/zoo/zoo-128.networks.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import LeaveOneOut, cross_val_predict

from latbench.predictors.metrics import accuracy

TIMM = Path(__file__).resolve().parent.parent / "data" / "public-latency" / "timm"
CPU = TIMM / "benchmark-infer-fp32-nchw-pt240-cpu-i9_10940x-dynamo.csv"
GPU = TIMM / "benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv"


def joined(zoo_networks: Path) -> pd.DataFrame:
    """One row per (model, size) of the i9 column whose model the zoo measured."""
    zoo = pd.read_csv(zoo_networks)
    zoo = zoo[(zoo["status"] == "ok") & zoo["name"].str.startswith("timm:")]
    local = zoo.groupby("name")["latency_min_ms"].min().rename("local_ms").reset_index()
    local["model"] = local["name"].str.removeprefix("timm:")
    features = pd.read_csv(TIMM / "latbench-features.csv").drop_duplicates(["model", "img_size"])
    gpu = pd.read_csv(GPU).drop_duplicates("model")
    gpu["gpu_ms_per_image"] = gpu["infer_step_time"] / gpu["infer_batch_size"]
    return (
        pd.read_csv(CPU)
        .merge(local, on="model")
        .merge(features, left_on=["model", "infer_img_size"], right_on=["model", "img_size"])
        .merge(gpu[["model", "gpu_ms_per_image"]], on="model")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zoo_networks", type=Path, help="the zoo's *.networks.csv")
    d = joined(parser.parse_args().zoo_networks)
    y = np.log(d["infer_step_time"].to_numpy())
    base = np.log(d[["flops", "params", "activations"]].to_numpy())
    base = np.column_stack([base, np.log1p(d["n_ops"].to_numpy())])
    local = np.log(d["local_ms"].to_numpy())[:, None]
    gpu = np.log(d["gpu_ms_per_image"].to_numpy())[:, None]
    print(f"{len(d)} (model, size) rows of {d['model'].nunique()} models; leave-one-out ridge")
    print(f"{'regressors':28s} {'within ±10%':>11s} {'Spearman ρ':>10s} {'MAPE %':>7s}")
    for label, X in (
        ("features (baseline)", base),
        ("features + RTX 3090", np.hstack([base, gpu])),
        ("local latency + log size", np.hstack([local, np.log(d[["img_size"]].to_numpy())])),
        ("features + local", np.hstack([base, local])),
        ("features + RTX 3090 + local", np.hstack([base, gpu, local])),
    ):
        ridge = RidgeCV(alphas=np.logspace(-3, 3, 13))
        p = cross_val_predict(ridge, X, y, cv=LeaveOneOut())
        m = accuracy(np.exp(p), np.exp(y))
        print(
            f"{label:28s} {100 * m['within_10pct']:10.1f}% {m['spearman_rho']:10.3f} "
            f"{m['mape_pct']:7.1f}"
        )


if __name__ == "__main__":
    main()
