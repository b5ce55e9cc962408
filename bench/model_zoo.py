"""Model zoo: predicted vs measured latency of >= 60 timm and torchvision networks on the CPU.

Every model is traced (``latbench.models``, random weights) at one CPU-sized input; the unique ops
of the whole zoo are profiled once into one op table; every model is measured whole twice, the two
passes interleaved round by round (the noise floor); a seeded third of the models calibrates each
method, which predicts the other two thirds. The repeatable CPU protocol: one thread on the
per-thread CPU clock, interleaved rounds with the drift reference, one nominal reference time for
all tables of the run; compared by the fastest sample, the median and the drift-corrected fastest
sample (``--stats``).

  LUT + calib (affine)  the op table's sum, calibrated: const, op_sum, longest path, op
                        count (n_edges: per-op dispatch overhead), merges (the predictor
                        `latbench fit OPS --networks NETS` saves)
  LUT + per-kind        one weight per op kind
  LUT sum + n_ops       op_sum and the op count only (the simplest per-op overhead model)
  ... + params          and the parameter count: weights an op profiled alone keeps in the
                        caches, a whole model streams from memory on every run
  LUT + calib (split)   op_sum, the op sum of the ops under 1 ms (timed in back-to-back calls
                        that keep their data in the caches: in a model they run slower) and
                        the op count (``latbench fit --calibration split``)
  LUT scale             op_sum times one factor
  FLOPs scale           total FLOPs times one factor (fitted on the same third)
  log-linear            log ms = b0 + b1 log MACs + b2 log params + b3 log activations
  noise floor           pass 2 vs pass 1 of the same models

Prints the number of unique ops, the profiling time, the share of each model's time the plain
op sum explains, and for every method the share of held-out models within ±10 % and Kendall τ.
Tables are resumed by a re-run (--out); the report is printed and, with --report, written.

    nice -n 5 python bench/model_zoo.py [--size 128] [--threads 1] [--report FILE]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from contextlib import redirect_stdout
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from predictor_accuracy import shared_nominal, timer  # noqa: E402 - the same protocol

from latbench.models import model_architecture, model_features, trace_model  # noqa: E402
from latbench.netprofile import measure_architectures, read_networks  # noqa: E402
from latbench.predictors.batch import encode  # noqa: E402
from latbench.predictors.data import network_data, op_data
from latbench.predictors.learned import FlopsCost  # noqa: E402
from latbench.predictors.lookup import LookupPredictor  # noqa: E402
from latbench.predictors.metrics import accuracy  # noqa: E402
from latbench.predictors.network import NetworkPredictor  # noqa: E402
from latbench.profile import profile_specs  # noqa: E402
from latbench.statistics import STATISTICS as STATS  # noqa: E402
from latbench.tablerun.ids import arch_id  # noqa: E402

TARGET_WITHIN_10 = 0.95
TARGET_TAU = 0.95
SPREAD_SEEDS = 20
"""Calibration thirds drawn to show how much the held-out score depends on the draw."""

ZOO = {
    "ResNet": [
        "timm:resnet18",
        "timm:resnet34",
        "timm:resnet50",
        "timm:resnet26d",
        "timm:resnet10t",
        "timm:resnext26ts",
        "torchvision:resnet18",
        "torchvision:resnet50",
        "torchvision:resnext50_32x4d",
    ],
    "MobileNet": [
        "torchvision:mobilenet_v2",
        "torchvision:mobilenet_v3_small",
        "torchvision:mobilenet_v3_large",
        "timm:mobilenetv2_050",
        "timm:mobilenetv2_100",
        "timm:mobilenetv3_small_050",
        "timm:mobilenetv3_small_100",
        "timm:mobilenetv3_large_100",
    ],
    "EfficientNet": [
        "timm:efficientnet_b0",
        "timm:efficientnet_b1",
        "timm:efficientnet_lite0",
        "timm:tf_efficientnet_b0",
        "torchvision:efficientnet_b0",
        "timm:tinynet_a",
    ],
    "RegNet": [
        "timm:regnetx_002",
        "timm:regnetx_004",
        "timm:regnety_002",
        "timm:regnety_004",
        "timm:regnetx_008",
        "timm:regnety_008",
        "torchvision:regnet_x_400mf",
        "torchvision:regnet_y_400mf",
    ],
    "ConvNeXt": [
        "timm:convnext_atto",
        "timm:convnext_femto",
        "timm:convnext_pico",
        "timm:convnext_nano",
        "torchvision:convnext_tiny",
    ],
    "DenseNet": ["torchvision:densenet121"],
    "ViT/DeiT": [
        "timm:vit_tiny_patch16_224",
        "timm:vit_small_patch16_224",
        "timm:deit_tiny_patch16_224",
        "timm:deit_small_patch16_224",
        "torchvision:vit_b_16",
    ],
    "Swin": ["timm:swin_tiny_patch4_window7_224", "torchvision:swin_t"],
    "MLP-Mixer": ["timm:mixer_s16_224", "timm:resmlp_12_224"],
    "other": [
        "torchvision:squeezenet1_0",
        "torchvision:squeezenet1_1",
        "torchvision:shufflenet_v2_x0_5",
        "torchvision:shufflenet_v2_x1_0",
        "torchvision:mnasnet0_5",
        "torchvision:mnasnet1_0",
        "torchvision:alexnet",
        "torchvision:googlenet",
        "timm:ghostnet_100",
        "timm:lcnet_050",
        "timm:lcnet_100",
        "timm:mobilevit_xxs",
        "timm:edgenext_xx_small",
        "timm:fbnetc_100",
        "timm:semnasnet_100",
        "timm:dla34",
        "timm:cspresnet50",
        "timm:poolformer_s12",
        "timm:pit_ti_224",
        "timm:repvgg_a0",
        "timm:hardcorenas_a",
        "timm:efficientvit_b0",
        "timm:levit_128s",
    ],
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=128, help="input H = W (default: 128)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="first N models only (a quick try)")
    p.add_argument(
        "--only", default="", help="models whose name holds one of these comma-separated parts"
    )
    p.add_argument(
        "--op-budget-ms",
        type=float,
        default=100.0,
        help="per op and round (default: 100; ops over ~4 ms get few samples at 40)",
    )
    p.add_argument("--net-budget-ms", type=float, default=1000.0)
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the op table")
    p.add_argument(
        "--net-rounds",
        type=int,
        default=10,
        help="interleaved rounds of the whole models, both passes in each (default: 10)",
    )
    p.add_argument(
        "--stats",
        default="min,median,min-corrected",
        help="statistics compared, comma-separated, the first one written to the "
        f"summary JSON (of {', '.join(sorted(STATS))}; default: "
        "min,median,min-corrected)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the calibration third")
    p.add_argument("--out", type=Path, default=Path("bench_out/model_zoo"))
    p.add_argument("--report", type=Path, default=None, help="also write the report here")
    return p.parse_args()


def trace_zoo(models: list[str], shape: str) -> tuple[list, dict[str, str], list[str]]:
    """Architectures of the models that trace, their family, and the failures (one line)."""
    archs, family, failed = [], {}, []
    fam_of = {m: f for f, ms in ZOO.items() for m in ms}
    for m in models:
        try:
            archs.append(model_architecture(trace_model(m, shape)))
            family[m] = fam_of[m]
        except Exception as exc:  # noqa: BLE001 - a bench reports and goes on
            failed.append(f"{m}: {type(exc).__name__}: {str(exc)[:160]}")
    return archs, family, failed


def loglinear_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares of log y on [1, log x...]."""
    a = np.column_stack([np.ones(len(x)), np.log(x)])
    return np.linalg.lstsq(a, np.log(y), rcond=None)[0]


def loglinear_predict(coef: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.exp(np.column_stack([np.ones(len(x)), np.log(x)]) @ coef)


def relative_lstsq(features: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative-free least squares on relative error: min Σ ((f·w - y) / y)²."""
    return np.linalg.lstsq(features / y[:, None], np.ones(len(y)), rcond=None)[0]


def main() -> int:
    args = parse_args()
    started = datetime.now(timezone.utc)
    load0 = os.getloadavg()
    shape = f"1,3,{args.size},{args.size}"
    models = [m for ms in ZOO.values() for m in ms][: args.limit or None]
    if args.only:
        models = [m for m in models if any(part in m for part in args.only.split(","))]
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    archs, family, failed = trace_zoo(models, shape)
    trace_s = time.perf_counter() - t0
    ops = encode(archs).ops
    paths = {
        "ops": args.out / f"zoo-{args.size}.ops.csv",
        "nets": args.out / f"zoo-{args.size}.networks.csv",
    }
    key = f"cpu/{args.threads}"
    op_timer = timer(args.op_budget_ms, "cpu", args.threads, args.rounds)
    t0 = time.perf_counter()
    shared_nominal(key, lambda: profile_specs(ops, paths["ops"], op_timer), op_timer)
    profile_s = time.perf_counter() - t0
    net_timer = timer(args.net_budget_ms, "cpu", args.threads, args.net_rounds)
    t0 = time.perf_counter()
    shared_nominal(
        key, lambda: measure_architectures(archs, paths["nets"], net_timer, repeats=2), net_timer
    )
    nets_s = time.perf_counter() - t0

    out = io.StringIO()
    with redirect_stdout(out):
        header(args, archs, family, failed, ops, (trace_s, profile_s, nets_s), started, load0)
        for i, stat in enumerate(args.stats.split(",")):
            report(args, stat, archs, family, paths, summary=i == 0)
    text = out.getvalue()
    print(text)
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text, encoding="utf-8")
    return 0


def header(
    args: argparse.Namespace,
    archs: list,
    family: dict,
    failed: list[str],
    ops: list,
    times: tuple[float, float, float],
    started: datetime,
    load0: tuple[float, float, float],
) -> None:
    trace_s, profile_s, nets_s = times
    print(f"# Model zoo: predicted vs measured latency ({started:%Y-%m-%d %H:%M} UTC)")
    print(
        f"command: python bench/model_zoo.py --size {args.size} --threads "
        f"{args.threads} --op-budget-ms {args.op_budget_ms:g} --net-budget-ms "
        f"{args.net_budget_ms:g} --rounds {args.rounds} --net-rounds {args.net_rounds} "
        f"--stats {args.stats} --seed {args.seed}"
    )
    print(
        f"load average at start {load0[0]:.1f}, at the end {os.getloadavg()[0]:.1f} "
        f"({os.cpu_count()} cores, shared with other work)"
    )
    print(
        f"models: {len(archs)} traced of {len(archs) + len(failed)} "
        f"({', '.join(f'{f} {sum(family.get(a.name) == f for a in archs)}' for f in ZOO)}); "
        f"input 1x3x{args.size}x{args.size}; untraceable: {len(failed)}"
    )
    for line in failed:
        print(f"  untraceable: {line}")
    n_total = sum(len(a.edges) for a in archs)
    print(
        f"unique ops: {len(ops)} of {n_total} op calls in the zoo "
        f"({n_total / max(1, len(ops)):.1f} calls per unique op)"
    )
    print(
        f"time: tracing {trace_s:.0f} s, profiling the unique ops {profile_s:.0f} s, "
        f"measuring the models whole (2 passes) {nets_s:.0f} s "
        f"(a re-run resumes the tables: 0 s when complete)"
    )


def calibration_third(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(calibration rows, held-out rows), sorted: a seeded third of ``n`` models and the rest."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n // 3]), np.sort(order[n // 3 :])


def report(
    args: argparse.Namespace, stat_name: str, archs: list, family: dict, paths: dict, summary: bool
) -> None:
    """Every method's accuracy on the held-out models, compared by statistic ``stat_name``."""
    stat = STATS[stat_name]
    table = read_networks(paths["nets"])  # only this zoo's rows (a table may hold more)
    table = table[table["arch_id"].isin({arch_id(a) for a in archs})]
    nets = network_data(table, stat)
    by_name = {a.name: a for a in archs}
    names = [a.name for a in nets.archs]
    y = nets.latency_ms
    ops = op_data(paths["ops"], stat)
    lut = LookupPredictor().fit(*ops.xy)
    batch = encode(nets.archs)  # once: every fit below takes rows of it
    raw = NetworkPredictor(lut, calibration="none").composed(batch)
    op_sum, n_ops = raw["op_sum"], raw["n_edges"]
    feats = np.array(
        [
            [f["macs"], f["params"], f["activations"]]
            for f in (model_features(by_name[n]) for n in names)
        ]
    )

    train, test = calibration_third(args.seed, len(names))
    tr_archs, te_archs = batch.take(train), batch.take(test)

    predicted: dict[str, np.ndarray] = {}
    for label, calib in (
        ("LUT + calib (affine)", "affine"),
        ("LUT + calib (split)", "split"),
        ("LUT + per-kind", "per_kind"),
        ("LUT scale", "scale"),
    ):
        model = NetworkPredictor(lut, calibration=calib).fit(tr_archs, y[train])
        predicted[label] = np.asarray(model.predict(te_archs))
    w = relative_lstsq(np.column_stack([op_sum, n_ops])[train], y[train])
    predicted["LUT sum + n_ops"] = np.column_stack([op_sum, n_ops])[test] @ w
    terms = np.column_stack([op_sum, n_ops, feats[:, 1]])  # + weights streamed per run
    w3 = relative_lstsq(terms[train], y[train])
    predicted["LUT sum + n_ops + params"] = terms[test] @ w3
    flops_model = NetworkPredictor(FlopsCost(), calibration="scale").fit(tr_archs, y[train])
    predicted["FLOPs scale"] = np.asarray(flops_model.predict(te_archs))
    coef = loglinear_fit(feats[train], y[train])
    predicted["log-linear (MACs, params, acts)"] = loglinear_predict(coef, feats[test])
    if nets.repeat_ms is not None:
        predicted["noise floor (pass 2 vs 1)"] = nets.repeat_ms[test]

    print(f"\n## statistic {stat} ({nets.device})")
    share = op_sum / y
    print(
        f"share of each model's time the plain op sum explains (op_sum / measured): median "
        f"{np.median(share):.2f}, 10th-90th percentile {np.percentile(share, 10):.2f}-"
        f"{np.percentile(share, 90):.2f}, min {share.min():.2f} ({names[share.argmin()]}), "
        f"max {share.max():.2f} ({names[share.argmax()]})"
    )
    for fam in ZOO:
        idx = [i for i, n in enumerate(names) if family[n] == fam]
        if idx:
            print(
                f"  {fam:<13} share {np.median(share[idx]):.2f} (median of {len(idx)}), "
                f"ops per model {np.median(n_ops[idx]):.0f}, ms {np.median(y[idx]):.2f}"
            )
    if nets.repeat_ms is not None:
        ratio = nets.repeat_ms / y
        print(
            f"pass 2 / pass 1: median {np.median(ratio):.3f}, 10th-90th percentile "
            f"{np.percentile(ratio, 10):.3f}-{np.percentile(ratio, 90):.3f}; samples per model "
            f"and pass: median {table['n_samples'].median():.0f}, "
            f"min {table['n_samples'].min():.0f}"
        )
    print(f"calibration: {len(train)} models (seed {args.seed}); held out: {len(test)}")
    print(f"{'method':<34} {'within ±10%':>12} {'Kendall τ':>10} {'MAPE %':>8}")
    results = {}
    for label, pred in predicted.items():
        acc = accuracy(pred, y[test])
        results[label] = acc
        print(
            f"{label:<34} {100 * acc['within_10pct']:>11.1f}% {acc['kendall_tau']:>10.3f} "
            f"{acc['mape_pct']:>8.2f}"
        )
    print(
        f"target: within ±10 % >= {100 * TARGET_WITHIN_10:.0f} % and τ >= "
        f"{TARGET_TAU}; per-op overhead fitted by 'LUT sum + n_ops': "
        f"{1e3 * w[1]:.1f} µs per op, op-sum factor {w[0]:.2f}; with params: factor "
        f"{w3[0]:.2f}, {1e3 * w3[1]:.1f} µs per op, {1e6 * w3[2]:.2f} ms per M params"
    )
    for calib in ("affine", "split"):
        within, taus = [], []
        for seed in range(SPREAD_SEEDS):
            tr, te = calibration_third(seed, len(names))
            fitted = NetworkPredictor(lut, calibration=calib).fit(batch.take(tr), y[tr])
            acc = accuracy(fitted.predict(batch.take(te)), y[te])
            within.append(100 * acc["within_10pct"])
            taus.append(acc["kendall_tau"])
        print(
            f"LUT + calib ({calib}) over calibration seeds 0-{SPREAD_SEEDS - 1}: within ±10 % "
            f"median {np.median(within):.1f} %, worst {min(within):.1f} %; τ median "
            f"{np.median(taus):.3f}, worst {min(taus):.3f}"
        )
    for label in ("LUT + calib (affine)", "LUT + calib (split)"):
        error = predicted[label] / y[test] - 1
        worst = np.argsort(-np.abs(error))[:5]
        print(
            f"largest errors of {label}: "
            + ", ".join(f"{names[test[i]]} {100 * error[i]:+.0f}%" for i in worst)
        )
    if summary:
        (args.out / f"zoo-{args.size}.summary.json").write_text(
            json.dumps(
                {"models": len(names), "statistic": stat, "results": results},
                indent=1,
                default=float,
            )
        )


if __name__ == "__main__":
    raise SystemExit(main())
