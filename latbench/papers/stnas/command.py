"""``latbench search stnas``: the parsed options in, the search's report out (printed by
the command as it is)."""

from __future__ import annotations

import argparse

from latbench.nas.searches import SearchReport
from latbench.nas.synthetic import Progress
from latbench.papers.stnas import search


def run(args: argparse.Namespace, models: list, progress: Progress | None) -> SearchReport:
    """Encoder depth, then decoder ops; ``models``: the encoder's and the decoder's costs."""
    lam = search.DEFAULT_LAMBDA if args.lam is None else args.lam
    out = search.search(
        models[0], args.size, lam, args.steps, args.seed, progress, decoder_model=models[1]
    )
    report = SearchReport()
    report.runs(
        "ST-NAS encoder depth (blocks kept per stage)", out.encoder, lambda o: str(o.choice)
    )
    depths = ",".join(map(str, out.encoder[-1].choice))
    report.line(
        f"time the λ={lam:g} encoder in ST-NAS' FPS protocol (with a sampled decoder: validate "
        "reads one as SPACE:SEED or an architecture file, not as the decoder ops below):"
    )
    report.line(
        f"  latbench validate stnas-decoder:0:{args.size} --protocol stnas "
        f"--encoder-depths {depths}"
    )
    report.runs(
        "ST-NAS decoder ops", out.decoder, lambda o: ", ".join(out.op_names[j] for j in o.choice)
    )
    return report
