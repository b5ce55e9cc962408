"""``latbench evaluate``: accuracy of a network predictor on held-out measured networks."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from latbench.cli import ui
from latbench.statistics import STATISTICS as STATS
from latbench.statistics import fitted_statistic


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="accuracy of a predictor on held-out whole networks",
        description="Predict the networks of NETWORKS (a latbench.networks table, ideally not the "
        "one the predictor was calibrated on) and compare with their measured latency: MAPE, share "
        "within ±5 %% / ±10 %%, Kendall τ, Spearman ρ, beside the noise floor (repeat 2 vs repeat "
        "1) when the table has it; with --plot, a predicted-vs-measured scatter plot (PNG).",
    )
    p.add_argument("predictor", type=Path, help="network predictor JSON (`latbench fit`)")
    p.add_argument("networks", type=Path, help="latbench.networks table of held-out networks")
    p.add_argument(
        "--stat",
        choices=sorted(STATS),
        help="statistic compared (default: the one the predictor was fitted on)",
    )
    p.add_argument(
        "--plot",
        type=Path,
        help="write the scatter plot to this PNG (default: no "
        "plot; nothing is written beside the networks table)",
    )
    p.add_argument("--json", type=Path, help="also write the metrics as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latbench.cli.validate import load_network_predictor
    from latbench.predictors import report as metrics
    from latbench.predictors.data import network_data
    from latbench.predictors.persist import check_device
    from latbench.tables import refuse_table

    model = load_network_predictor(args.predictor)
    column = STATS[args.stat] if args.stat else fitted_statistic(model.info_)
    nets = network_data(args.networks, column)
    check_device(model.info_, nets.device or None, False, str(args.predictor))
    nets, left_out = metrics.held_out(nets, getattr(model, "shots_", []))
    if left_out:
        ui.console.print(
            f"left out the {left_out} network(s) the predictor was fitted on (its "
            f"shots); scoring the {len(nets.archs)} held-out ones"
        )
    calibrated_on = model.info_.get("tables_sha256", {}).get("networks")
    if not left_out and calibrated_on and calibrated_on == nets.table_sha256:
        ui.console.print(
            f"note: {args.networks} is the networks table {args.predictor} was "
            "calibrated on: these scores are in-sample, not held out (evaluate on "
            "other networks, e.g. `measure-nets --seed 1 --repeat 2`)",
        )
    ui.console.print(f"latencies {nets.provenance}")
    name = type(model).__name__
    predicted = model.predict(nets.archs)
    report = metrics.evaluate_networks({name: predicted}, nets)
    ui.print_table(
        f"{nets.space}: {len(nets.archs)} networks on {nets.device or '?'} ({column})",
        metrics.METRIC_HEADER,
        metrics.metric_rows(report),
    )
    if metrics.NOISE_FLOOR not in report:
        how = "imported: one value per network" if nets.provenance.startswith("imported") else ""
        ui.console.print(
            f"no repeat-2 rows: noise floor unknown ({how or 'measure with --repeat 2'})"
        )
    drift = metrics.pass_drift(nets)
    if metrics.passes_share_rounds(nets):
        ui.console.print(
            "the two passes were interleaved round by round (one drift reference reading "
            "for both): a slow-down of the whole machine hit both alike, none to divide out"
        )
    elif drift is not None:
        ui.console.print(
            f"drift between the passes: the machine ran {100 * abs(drift - 1):.1f} % "
            f"{'slower' if drift >= 1 else 'faster'} in pass 2 than in pass 1 (drift reference "
            "measured in the same rounds); the drift-corrected floor divides it out"
        )
    elif metrics.NOISE_FLOOR in report:
        ui.console.print(
            "no drift reference in this table: the floor includes any slow-down of "
            "the whole machine between the passes"
        )
    if hasattr(model, "predict_interval"):
        report["interval"] = interval_report(model, nets)
        r = report["interval"]
        ui.console.print(
            f"{r['stated_pct']:g} % interval ({getattr(model, 'estimate_label', 'estimated')}): "
            f"covers {r['coverage_pct']:.1f} % of the {r['n']} held-out networks "
            f"(stated {r['stated_pct']:g} %); median width {r['median_width_pct']:.1f} % "
            "of the measured latency",
        )
    if args.plot is not None:
        series = {name: predicted}
        if nets.repeat_ms is not None:
            series["re-measured (repeat 2)"] = nets.repeat_ms
        what = "imported" if "imported" in nets.provenance else "measured"
        title, xlabel = f"{nets.space} on {nets.device}", f"{what} latency (ms, whole network)"
        metrics.scatter_png(args.plot, nets.latency_ms, series, title, xlabel=xlabel)
        ui.console.print(f"scatter plot -> {args.plot}")
    if args.json is not None:
        refuse_table(args.json, "the metrics")
        args.json.write_text(
            json.dumps(metrics.json_metrics(report), allow_nan=False, indent=1, sort_keys=True)
            + "\n"
        )
    return 0


def interval_report(model: Any, nets: Any) -> dict[str, float]:
    """Share of ``nets``' measured latencies inside the model's interval, its median width
    relative to them, and its stated level (percentages)."""
    import numpy as np

    _, low, high = model.predict_interval(nets.archs)
    y = np.asarray(nets.latency_ms, dtype=np.float64)
    inside = (y >= low) & (y <= high)
    return {
        "stated_pct": 100 * float(model.coverage),
        "coverage_pct": 100 * float(inside.mean()),
        "median_width_pct": 100 * float(np.median((high - low) / y)),
        "n": int(len(y)),
    }
