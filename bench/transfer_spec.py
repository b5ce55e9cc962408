"""A GPU from its spec sheet: zero-shot latency, leave one GPU out, on the published columns.

Data: the NAS-Bench-201 (GTX 1080 Ti, Titan X at batch 1/32/256) and OFA MobileNetV3 (RTX 2080
Ti, Titan Xp at batch 1/32/64) files of ``data/public-latency``. For each GPU in turn, the
device model's four spec-independent weights (``predictors/gpu_specs.py``: const, launch ms per
kernel, inverse efficiencies of FLOPs and bytes) are fitted on the OTHER three GPUs' columns of
the same regime (batch 1, or batch >= 32), and the target's latencies are estimated from its
spec sheet (``predictors/gpu_specs.csv``) alone: MAPE, Spearman ρ, share within ±10 %, and the
interval's coverage. Beside it, the baseline a spec sheet allows without this model: the other
GPU of the same file at the same batch, scaled by the ratio of peak FP32 FLOP/s.

``--calibrate`` also fits the weights on all four GPUs and writes
``predictors/gpu_calibration.json`` (what ``latbench fit --target-gpu`` uses).

Run: ``PYTHONPATH=. python bench/transfer_spec.py`` (``--quick``: 300 OFA subnets, every
10th NAS-Bench-201 cell).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from latbench.archs.nasbench201 import from_genotype, is_connected
from latbench.archs.ofa_mbv3 import build_network, config_from_columns
from latbench.predictors.batch import ArchBatch, encode
from latbench.predictors.device_model import network_terms, op_terms
from latbench.predictors.gpu_specs import (
    CALIBRATION_JSON,
    Calibration,
    SpecSheetPredictor,
    find_gpu,
    regime,
)
from latbench.predictors.metrics import accuracy
from latbench.predictors.transfer_fit import tolerance_factor

ROOT = Path(__file__).resolve().parents[1]
NB201 = ROOT / "data/public-latency/nasbench201_help_devices_ms.csv.gz"
OFA = ROOT / "data/public-latency/ofa_mbv3_help_devices_ms.csv.gz"
COLUMNS = {
    "nasbench201": {"1080ti": (1, 32, 256), "titanx": (1, 32, 256)},
    "ofa-mbv3": {"2080ti": (1, 32, 64), "titan_xp": (1, 32, 64)},
}
SPEC_NAME = {
    "1080ti": "GTX 1080 Ti",
    "titanx": "Titan X (Pascal)",
    "2080ti": "RTX 2080 Ti",
    "titan_xp": "Titan Xp",
}


def at_batch(batch: ArchBatch, b: int) -> ArchBatch:
    ops = [op.replace(input_shape=(b, *op.input_shape[1:])) for op in batch.ops]
    return ArchBatch(ops, batch.groups, batch.n)


def load_columns(every: int, n_ofa: int) -> list[dict]:
    """One entry per (space, gpu, batch): its network terms and measured ms."""
    out = []
    nb = pd.read_csv(NB201)
    nb = nb[[is_connected(g) for g in nb["arch_str"]]].iloc[::every].reset_index(drop=True)
    ofa = pd.read_csv(OFA).head(n_ofa)
    spaces = {
        "nasbench201": (nb, encode([from_genotype(g) for g in nb["arch_str"]])),
        "ofa-mbv3": (
            ofa,
            encode(
                [
                    build_network(config_from_columns(*r, 1.2))
                    for r in ofa[["ks", "e", "d", "r"]].itertuples(index=False)
                ]
            ),
        ),
    }
    for space, gpus in COLUMNS.items():
        df, batch = spaces[space]
        for b in sorted({b for bs in gpus.values() for b in bs}):
            nb_ = at_batch(batch, b)
            T = network_terms(nb_.counts(), op_terms(nb_.ops))
            for gpu, batches in gpus.items():
                if b in batches:
                    out.append(
                        {
                            "space": space,
                            "gpu": gpu,
                            "batch": b,
                            "T": T,
                            "y": df[f"{gpu}_{b}"].to_numpy(dtype=np.float64),
                        }
                    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--calibrate",
        action="store_true",
        help=f"also write {CALIBRATION_JSON.relative_to(ROOT)} from all four GPUs",
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    cols = load_columns(10 if args.quick else 3, 300 if args.quick else 1000)
    print(f"{len(cols)} columns built in {time.perf_counter() - t0:.0f} s", flush=True)
    warnings.simplefilter("ignore")
    print(
        "\nzero-shot from the spec sheet, leave one GPU out (calibrated on the other three "
        "GPUs' columns of the same regime)"
    )
    print(
        f"{'column':18s} {'MAPE %':>7s} {'ρ':>6s} {'±10 %':>6s} {'interval cov.':>13s} "
        f"{'| other GPU × FP32 ratio: MAPE %':>32s} {'ρ':>6s}"
    )
    for c in cols:
        train = [
            (find_gpu(SPEC_NAME[o["gpu"]]), o["T"], o["y"])
            for o in cols
            if o["gpu"] != c["gpu"] and regime(o["batch"]) == regime(c["batch"])
        ]
        model = SpecSheetPredictor(SPEC_NAME[c["gpu"]], c["batch"]).fit(cal=Calibration.fit(train))
        pred = c["T"] @ model.weights_
        q = tolerance_factor(model.residuals_, 0.9, 0.975)
        inside = np.mean((c["y"] >= pred * np.exp(-q)) & (c["y"] <= pred * np.exp(q)))
        y = c["y"]
        other = next(
            o
            for o in cols
            if o["space"] == c["space"] and o["batch"] == c["batch"] and o["gpu"] != c["gpu"]
        )
        ratio = (
            find_gpu(SPEC_NAME[other["gpu"]]).fp32_tflops
            / find_gpu(SPEC_NAME[c["gpu"]]).fp32_tflops
        )
        a, b = accuracy(pred, y), accuracy(other["y"] * ratio, y)
        print(
            f"{c['gpu'] + '_' + str(c['batch']):18s} {a['mape_pct']:7.1f} "
            f"{a['spearman_rho']:6.3f} {100 * a['within_10pct']:5.1f}% "
            f"{100 * inside:12.1f}% {b['mape_pct']:31.1f}  {b['spearman_rho']:6.3f}",
            flush=True,
        )
    if args.calibrate:
        doc = {
            "note": "device-model weights [const_ms, launch_ms, k_flop, k_byte] per regime, "
            "fitted by bench/transfer_spec.py --calibrate on the published GPU "
            "columns of data/public-latency (HELP: NAS-Bench-201 GTX 1080 Ti, Titan "
            "X; OFA RTX 2080 Ti, Titan Xp)",
            "regimes": {},
        }
        for reg in ("batch1", "batched"):
            cal = Calibration.fit(
                [
                    (find_gpu(SPEC_NAME[o["gpu"]]), o["T"], o["y"])
                    for o in cols
                    if regime(o["batch"]) == reg
                ]
            )
            doc["regimes"][reg] = {
                "weights": list(cal.weights),
                "gpus": sorted(set(cal.gpus)),
                "residuals": list(cal.residuals),
                "columns": {
                    f"{o['gpu']}_{o['batch']}": len(o["y"])
                    for o in cols
                    if regime(o["batch"]) == reg
                },
            }
        CALIBRATION_JSON.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {CALIBRATION_JSON}")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
