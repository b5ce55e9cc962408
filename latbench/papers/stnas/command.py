"""``latbench search stnas``: the parsed options in, a ``SearchReport`` out."""

from __future__ import annotations

import argparse
import dataclasses

from latbench.nas.searches import SearchReport
from latbench.nas.synthetic import Progress
from latbench.papers.stnas import decoder, search


def run(args: argparse.Namespace, models: list, progress: Progress | None) -> SearchReport:
    """Encoder depth, then decoder ops; ``models``: the encoder's and the decoder's costs."""
    lam = search.DEFAULT_LAMBDA if args.lam is None else args.lam
    encoder, decoder_runs = search.search(
        models[0], args.size, lam, args.steps, args.seed, progress, decoder_model=models[1]
    )
    report = SearchReport()
    report.runs("ST-NAS encoder depth (blocks kept per stage)", encoder, lambda o: str(o.choice))
    names = decoder.OP_NAMES
    report.runs("ST-NAS decoder ops", decoder_runs, lambda o: ", ".join(names[j] for j in o.choice))
    for enc, dec in zip(encoder, decoder_runs):  # the searched decoder, its encoder's depths
        arch = decoder.build_network(tuple(names[j] for j in dec.choice), args.size)
        meta = {**arch.meta, "encoder_depths": [int(d) for d in enc.choice]}
        report.architectures[f"stnas-lam{enc.lam:g}"] = dataclasses.replace(arch, meta=meta)
    if args.out is not None:
        report.line(f"time the λ={lam:g} choice in ST-NAS' FPS protocol:")
        report.line(f"  latbench validate {args.out / f'stnas-lam{lam:g}.json'} --protocol stnas")
    else:
        depths = ",".join(map(str, encoder[-1].choice))
        report.line(
            f"time the λ={lam:g} encoder in ST-NAS' FPS protocol (--out DIR writes the searched "
            "decoder with these depths; here with a sampled decoder):"
        )
        report.line(
            f"  latbench validate stnas-decoder:0:{args.size} --protocol stnas "
            f"--encoder-depths {depths}"
        )
    return report
