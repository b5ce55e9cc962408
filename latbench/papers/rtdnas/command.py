"""``latbench search rtdnas`` and ``ga``: the parsed options in, a ``SearchReport`` out."""

from __future__ import annotations

import argparse

from latbench.nas.searches import SearchReport
from latbench.nas.synthetic import Progress
from latbench.papers.rtdnas import search


def run(args: argparse.Namespace, models: list, progress: Progress | None) -> SearchReport:
    """The cell search under L_ub, then the GA decoding of its paths."""
    lam = search.DEFAULT_LAMBDA if args.lam is None else args.lam
    out = search.search(
        models[0],
        args.size,
        lam,
        args.upper_ms,
        args.n_paths,
        args.steps,
        args.seed,
        progress,
        min_fps=args.min_fps,
    )
    how = (
        "--upper-ms"
        if args.upper_ms is not None
        else "0.8 × the expected latency at the start, so that it binds on this backbone"
    )
    report = SearchReport()
    report.line(
        f"cell search L_ub = {out.runs[0].extra['upper_ms']:.4g} ms ({how}); GA "
        f"decoding under {out.upper_ms:g} ms and {out.min_fps:g} FPS"
    )
    report.runs("RT-DNAS cell genotype (op~input per node)", out.runs, out.genotype)
    return _ga_report(out, report)


def ga(args: argparse.Namespace, models: list, progress: Progress | None) -> SearchReport:
    """The GA decoding alone, on synthetic (seeded) network weights."""
    out = search.ga(
        models[0], args.size, args.upper_ms, args.n_paths, args.seed, progress, args.min_fps
    )
    report = SearchReport()
    report.line(
        "synthetic network weights (seeded), cell latencies from the predictor; "
        f"cell {out.genotype(out.runs[0])}"
    )
    return _ga_report(out, report)


def _ga_report(out: search.RtdnasResult, report: SearchReport) -> SearchReport:
    pool, res = out.pool, out.decoded
    report.table(
        f"GA decoding: best {out.n_paths} of the top {len(pool)} paths",
        ["gene", "path (scale per layer)", "accumulated weight"],
        [(int(g), "-".join(map(str, pool.paths[g])), float(pool.weights[g])) for g in res.genes],
    )
    report.line(
        f"predicted latency {res.latency_ms:.4g} ms (≤ {out.upper_ms:g} ms and ≥ "
        f"{out.min_fps:g} FPS: {'yes' if res.feasible else 'NO'}), "
        f"{res.n_evals} distinct evaluations"
    )
    return report
