"""``latbench search cakes``: the parsed options in, a ``SearchReport`` out."""

from __future__ import annotations

import argparse

from latbench.nas.searches import SearchReport
from latbench.nas.synthetic import Progress
from latbench.papers.cakes import search
from latbench.papers.cakes.space import NAMES


def run(args: argparse.Namespace, models: list, progress: Progress | None) -> SearchReport:
    """Channels per sub-kernel under the cost-priority lasso (β from ``--beta``)."""
    lam = search.DEFAULT_LAMBDA if args.lam is None else args.lam
    out = search.search(models[0], args.size, lam, args.beta, args.steps, args.seed, progress)
    report = SearchReport()
    report.line(f"β ({args.beta}): " + ", ".join(f"{n}={b:.3f}" for n, b in zip(NAMES, out.beta)))
    report.runs(
        "CAKES channels per sub-kernel",
        out.runs,
        lambda o: " ".join(f"{n}:{c}" for n, c in zip(NAMES, o.choice) if c),
    )
    return report
