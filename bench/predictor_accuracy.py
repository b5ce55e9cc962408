"""Network-latency predictors against whole networks measured as a whole, side by side.

For each space: sample training networks (seed 1) and held-out networks (seed 0), profile every
distinct op they use, measure the networks as a whole (held-out ones twice, in two passes: the
noise floor), fit on the training networks, and print on the held-out ones, in one run.
The default protocol is latbench's repeatable CPU protocol: one thread on the per-thread CPU
clock, --rounds interleaved rounds with the drift reference, compared by the drift-corrected
fastest sample (``--stat min-corrected``); every table of the run shares one nominal reference
time, so a slow-down of the whole machine between tables or passes is divided out.

  FLOPs baseline    total FLOPs, affine fit on the training networks
  LUT sum           plain sum of measured op latencies (no calibration)
  learned + calib   ridge op model (log features), calibrated on the training networks
  LUT + calib       lookup op costs, calibrated on the training networks (the predictor)
  LUT + per-kind    the same with one calibration weight per op kind (NetworkPredictor
                    calibration="per_kind": lost cache reuse differs between op kinds)
  noise floor       the same networks measured again (repeat 2 vs repeat 1), as measured
                    and with the drift between the passes divided out

then the few-shot transfer from this thread count to another (fit on A, map with --shots
networks measured on B, Spearman / Kendall on the rest of B). Tables go to --out and are
resumed by a re-run; scatter plots (PNG) and a JSON summary land beside them.

    python bench/predictor_accuracy.py [--spaces nasbench201:paper,msnas,stnas-decoder,dints]
        [--n-test 200] [--n-train 50] [--threads 1] [--transfer-threads 2]
        [--stat min] [--rounds 20]
    python bench/predictor_accuracy.py --device cuda:0 --size paper \
        --transfer-device cpu --transfer-threads 4
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from latbench.archs import sample_architectures
from latbench.device import fingerprint
from latbench.netprofile import measure_architectures
from latbench.predictors.batch import encode
from latbench.predictors.data import network_data, op_data
from latbench.predictors.learned import FlopsCost, LearnedPredictor
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.network import NetworkPredictor
from latbench.predictors.report import evaluate_networks, metric_rows, pass_drift, scatter_png
from latbench.predictors.transfer import TransferPredictor
from latbench.profile import profile_specs
from latbench.statistics import STATISTICS as STATS
from latbench.timed import DRIFT_REFERENCE
from latbench.timing import TimingConfig, make_timer, min_sample_ms_for, resolve_clock

TARGET_WITHIN_10 = 0.95
TARGET_TAU = 0.9


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--spaces",
        default="nasbench201:paper,msnas,stnas-decoder,dints",
        help="comma-separated SPACE[:SIZE] (SIZE defaults to --size)",
    )
    p.add_argument("--size", default="small")
    p.add_argument("--n-test", type=int, default=200)
    p.add_argument("--n-train", type=int, default=50)
    p.add_argument("--device", default="cpu", help="device A: cpu or cuda[:N]")
    p.add_argument("--threads", type=int, default=1, help="device A: torch CPU threads")
    p.add_argument("--transfer-device", default=None, help="device B (default: device A)")
    p.add_argument(
        "--transfer-threads",
        type=int,
        default=2,
        help="device B's CPU threads (0: skip the transfer)",
    )
    p.add_argument("--transfer-space", default="nasbench201")
    p.add_argument("--shots", type=int, default=10)
    p.add_argument("--op-budget-ms", type=float, default=300.0)
    p.add_argument("--net-budget-ms", type=float, default=100.0)
    p.add_argument(
        "--stat",
        choices=sorted(STATS),
        default="min-corrected",
        help="statistic fitted and compared (min-corrected: the fastest sample with "
        "the machine's drift divided out; repeatable on a shared machine)",
    )
    p.add_argument("--clock", default="auto", help="CPU clock: auto, thread or wall")
    p.add_argument(
        "--rounds",
        type=int,
        default=20,
        help="interleaved rounds per group of ops / networks (1: one after another)",
    )
    p.add_argument("--out", type=Path, default=Path("bench_out/predictor_accuracy"))
    return p.parse_args()


NOMINAL: dict[str, float | None] = {}
"""Drift nominal per device and thread count: the first group's reference, shared by every
table of the run."""


def timer(budget_ms: float, device: str, threads: int, rounds: int, clock: str = "auto"):
    cpu = device.split(":")[0] == "cpu"
    clock = resolve_clock(clock, threads) if cpu else "wall"
    config = TimingConfig(
        warmup_ms=min(30.0, budget_ms / 3),
        budget_ms=budget_ms,
        target_rel_ci=0.005,
        min_sample_ms=min_sample_ms_for(device, clock),
        rounds=rounds,
        reference=DRIFT_REFERENCE if cpu and rounds > 1 else None,
    )
    t = make_timer(device, config, threads=threads, **({"clock": clock} if cpu else {}))
    return t


def shared_nominal(key: str, run, t) -> None:
    """Run ``run()`` with ``t`` starting from the shared nominal, and keep it for the next."""
    if hasattr(t, "reference_nominal_ms"):
        t.reference_nominal_ms = NOMINAL.get(key)
    run()
    if hasattr(t, "reference_nominal_ms"):
        NOMINAL[key] = t.reference_nominal_ms


def measure(args: argparse.Namespace, space: str, size: str, folder: Path) -> dict:
    """Profile the ops of all sampled networks, measure train (1 pass) and test (2 passes)."""
    train = sample_architectures(space, args.n_train, size, seed=1)
    test = sample_architectures(space, args.n_test, size, seed=0)
    ops = encode(train + test).ops
    t0 = time.perf_counter()
    paths = {k: folder / f"{space}-{size}.{k}.csv" for k in ("ops", "train", "test")}
    key = f"{args.device}/{args.threads}"
    op_timer = timer(args.op_budget_ms, args.device, args.threads, args.rounds, args.clock)
    shared_nominal(key, lambda: profile_specs(ops, paths["ops"], op_timer), op_timer)
    net_timer = timer(args.net_budget_ms, args.device, args.threads, args.rounds, args.clock)
    shared_nominal(
        key,
        lambda: measure_architectures(train, paths["train"], net_timer, repeats=1, size=size),
        net_timer,
    )
    shared_nominal(
        key,
        lambda: measure_architectures(test, paths["test"], net_timer, repeats=2, size=size),
        net_timer,
    )
    print(
        f"  {space}: {len(ops)} distinct ops, {len(train)} + {len(test)} networks, "
        f"measured (or resumed) in {time.perf_counter() - t0:.0f} s"
    )
    return paths


def predictors_for(ops_path: Path, stat: str) -> dict[str, NetworkPredictor]:
    ops = op_data(ops_path, STATS[stat])
    lut = LookupPredictor().fit(*ops.xy)
    return {
        "FLOPs baseline": NetworkPredictor(FlopsCost(), calibration="linear"),
        "LUT sum (uncalibrated)": NetworkPredictor(lut, calibration="none"),
        "learned + calib": NetworkPredictor(LearnedPredictor().fit(*ops.xy)),
        "LUT + calib": NetworkPredictor(lut),
        "LUT + per-kind calib": NetworkPredictor(lut, calibration="per_kind"),
    }


def evaluate_space(args: argparse.Namespace, space: str, size: str, paths: dict) -> dict:
    train = network_data(paths["train"], STATS[args.stat])
    test = network_data(paths["test"], STATS[args.stat])
    models = predictors_for(paths["ops"], args.stat)
    predicted = {}
    for name, model in models.items():
        model.fit(train.archs, train.latency_ms)
        predicted[name] = model.predict(test.archs)
    report = evaluate_networks(predicted, test)
    print_report(
        f"{space} ({size}, {len(test.archs)} held-out networks, "
        f"{test.latency_ms.min():.2f}-{test.latency_ms.max():.2f} ms)",
        report,
    )
    drift = pass_drift(test)
    if drift is not None:
        print(
            f"  drift between the noise floor's passes (drift reference): "
            f"{100 * (drift - 1):+.1f} %"
        )
    png = scatter_png(
        paths["test"].with_suffix(".png"),
        test.latency_ms,
        {
            "LUT + calib": predicted["LUT + calib"],
            "FLOPs baseline": predicted["FLOPs baseline"],
            "re-measured": test.repeat_ms,
        },
        f"{space} on {test.device}",
    )
    best = report["LUT + calib"]
    ok = best["within_10pct"] >= TARGET_WITHIN_10 and best["kendall_tau"] >= TARGET_TAU
    calib = models["LUT + calib"]
    weights = {t: float(f"{w:.4g}") for t, w in zip(calib.terms_, calib.weights_)}
    print(
        f"  target (±10 % for >= 95 %, τ >= 0.9): {'MET' if ok else 'NOT MET'}; "
        f"calibration weights {weights}; plot {png}"
    )
    return {
        "report": report,
        "target_met": ok,
        "device": test.device,
        "size": size,
        "pass_drift": drift,
        "calibration": weights,
    }


def print_report(title: str, report: dict) -> None:
    header = ["predictor", "n", "MAPE %", "±5 %", "±10 %", "Kendall τ", "Spearman ρ"]
    print(f"\n{title}")
    print("  " + " | ".join(f"{h:>24}" if i == 0 else f"{h:>10}" for i, h in enumerate(header)))
    for row in metric_rows(report):
        print(
            "  "
            + " | ".join(f"{str(v):>24}" if i == 0 else f"{str(v):>10}" for i, v in enumerate(row))
        )


def transfer(
    args: argparse.Namespace, space: str, size: str, paths_a: dict, folder_b: Path
) -> dict:
    """Fit on A's tables, map onto B with ``shots`` networks of B, evaluate on B's rest."""
    net_timer = timer(
        args.net_budget_ms, args.transfer_device, args.transfer_threads, args.rounds, "auto"
    )
    test = sample_architectures(space, args.n_test, size, seed=0)
    path_b = folder_b / f"{space}-{size}.test.csv"
    measure_architectures(test, path_b, net_timer, repeats=1, size=size)
    a_train = network_data(paths_a["train"], STATS[args.stat])
    b = network_data(path_b, STATS[args.stat])
    base = predictors_for(paths_a["ops"], args.stat)["LUT + calib"].fit(
        a_train.archs, a_train.latency_ms
    )
    k = args.shots
    rest = type(b)(b.archs[k:], b.latency_ms[k:], None, b.device)
    predicted = {f"A as is ({a_train.device})": base.predict(rest.archs)}
    for method in ("loglinear", "scale"):
        mapped = TransferPredictor(base, method, b.device).fit(b.archs[:k], b.latency_ms[:k])
        predicted[f"{method}, {k} shots"] = mapped.predict(rest.archs)
    report = evaluate_networks(predicted, rest)
    print_report(
        f"few-shot transfer {a_train.device} -> {b.device} ({space}, evaluated on "
        f"{len(rest.archs)} networks of B not used for the map)",
        report,
    )
    return {"report": report, "from": a_train.device, "to": b.device, "shots": k}


def main() -> None:
    args = parse_args()
    args.transfer_device = args.transfer_device or args.device
    slug = fingerprint(args.device, threads=args.threads)["slug"]
    folder = args.out / slug
    print(
        f"device A: {slug}; statistic: {STATS[args.stat]}; budgets: op {args.op_budget_ms} "
        f"ms, network {args.net_budget_ms} ms, in {args.rounds} interleaved rounds; "
        f"results -> {folder}"
    )
    summary: dict = {"device": slug, "stat": STATS[args.stat], "spaces": {}}
    paths, sizes = {}, {}
    for item in args.spaces.split(","):
        space, _, size = item.partition(":")
        size = size or args.size
        paths[space], sizes[space] = measure(args, space, size, folder), size
        summary["spaces"][f"{space}:{size}"] = evaluate_space(args, space, size, paths[space])
    if args.transfer_threads and args.transfer_space in paths:
        folder_b = (
            args.out / fingerprint(args.transfer_device, threads=args.transfer_threads)["slug"]
        )
        summary["transfer"] = transfer(
            args,
            args.transfer_space,
            sizes[args.transfer_space],
            paths[args.transfer_space],
            folder_b,
        )
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, default=float) + "\n")
    print(f"\nsummary -> {args.out / 'summary.json'}")


if __name__ == "__main__":
    main()
