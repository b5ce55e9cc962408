"""``latbench search hypersegnas``: the parsed options in, a ``SearchReport`` out; ``--confirm N``
measures the top N kept networks into the device's memory table."""

from __future__ import annotations

import argparse
import functools
import time

from latbench.nas.searches import SearchReport
from latbench.nas.synthetic import Progress
from latbench.papers import DINTS_TARGETS_MIB, HYPERSEGNAS_TOP_N
from latbench.papers.hypersegnas import search


def run(args: argparse.Namespace, models: list, progress: Progress | None) -> SearchReport:
    """Sample ``-n`` architectures, keep those within ``--band-mib`` of ``--target-mib``,
    optionally measure the top ``--confirm`` on ``--device``; ``models``: [memory predictor]."""
    ray = None
    if args.ray is not None:
        from latbench.fleet import connect

        ray = connect(None if args.ray == "local" else args.ray, args.ray_cpus)
    t0 = time.perf_counter()
    res = search.search(
        models[0],
        args.n,
        args.target_mib,
        args.band_mib,
        args.size,
        args.seed,
        args.jobs,
        progress,
        ray,
    )
    report, took = SearchReport(), time.perf_counter() - t0
    if res.screened:
        report.line(
            f"screened {res.n_sampled} architectures: per-op estimate for all, full "
            f"trace for {res.n_full} near the band edges (margin {res.margin_mib:.0f} MiB)"
        )
    if args.confirm and not res.kept:
        report.line("nothing kept, nothing to confirm")
    elif args.confirm:
        _confirm(args, res, models[0], report, progress)
    report.table(
        f"kept {len(res.kept)}/{res.n_sampled} within ±{args.band_mib:g} MiB of "
        f"{args.target_mib:g} MiB (predicted in {took:.1f} s)",
        ["rank", "genotype", "predicted MiB"] + (["measured MiB"] if args.confirm else []),
        [
            (i, a.genotype, float(m)) + ((res.measured_mib.get(i, ""),) if args.confirm else ())
            for i, (a, m) in enumerate(zip(res.kept[: max(10, args.confirm)], res.predicted_mib))
        ],
    )
    for i, arch in enumerate(res.kept[:HYPERSEGNAS_TOP_N]):  # the paper fine-tunes the top 10
        report.architectures[f"hypersegnas-rank{i}"] = arch
    if hint := band_hint(res, args.size):
        report.line(hint)
    if res.measured_mib:
        inside = res.within_band(list(res.measured_mib.values()))
        report.line(
            f"measured on {args.device}: {int(inside.sum())}/{len(inside)} of the top "
            f"{len(inside)} inside the band"
        )
    return report


def band_hint(res: search.FilterResult, size: str) -> str:
    """One line for a band that kept (almost) nothing, or everything (of more than one sample):
    where the band and the samples' predicted memory lie, and option values that make the band
    discriminate, e.g. a ± band a tenth of the samples' range; "" for any other band."""
    if res.sampled_mib is None:
        return ""
    lo, mid, hi = res.sampled_mib
    band_lo, band_hi = res.target_mib - res.band_mib, res.target_mib + res.band_mib
    covers_all = res.n_sampled > 1 and band_lo <= lo and hi <= band_hi
    if not (covers_all or res.few_kept):
        return ""
    kept = f"hint: kept {len(res.kept)}/{res.n_sampled}: the band {band_lo:g} to {band_hi:g} MiB"
    width = (hi - lo) / 10.0 if hi > lo else None
    narrower = (
        f"--band-mib (e.g. {width:.3g}, a tenth of the samples' range)"
        if width is not None
        else "--band-mib (the samples all predict the same memory: no band tells them apart)"
    )
    if covers_all:
        return (
            f"{kept} is wider than the samples' whole range, so it discriminates nothing: the "
            f"samples' predicted memory is {lo:.4g}-{hi:.4g} MiB (median {mid:.4g}) at size "
            f"{size}; set {narrower}"
        )
    paper = "the default target is DiNTS' (paper-size networks on a GPU); "
    where = "at the edge of the samples"
    if band_lo > hi:
        where = "above every sample"
    elif band_hi < lo:
        where = "below every sample"
    wide = f" and {narrower}" if width is not None and 2 * res.band_mib >= hi - lo else ""
    return (
        f"{kept} lies {where}, whose predicted memory is {lo:.4g}-{hi:.4g} MiB (median "
        f"{mid:.4g}) at size {size}; {paper if res.target_mib in DINTS_TARGETS_MIB else ''}"
        f"set --target-mib (e.g. {mid:.4g}){wide or ' or widen --band-mib'}"
    )


def _confirm(
    args: argparse.Namespace,
    res: search.FilterResult,
    model: search.MemoryModel,
    report: SearchReport,
    progress: Progress | None,
) -> None:
    """Measure the top ``--confirm`` kept networks (a fresh process each) into the device's
    memory table, under the predictor's training config."""
    from latbench.device import fingerprint
    from latbench.memory.steps import TrainConfig
    from latbench.memory.table import (
        default_memory_table,
        measure_into_table,
        measure_memory,
        measured_column,
        subject_columns,
    )
    from latbench.tables import read_table

    cpu = args.device == "cpu"
    threads = args.threads if cpu else None
    config = getattr(model, "config", TrainConfig())
    slug = fingerprint(args.device, threads=threads)["slug"]
    path = args.memory_table or default_memory_table(slug, f"dints-{args.size}")
    column = measured_column(args.device)
    predicted = getattr(model, "target", None)
    if predicted not in (None, "rss_growth" if cpu else "nvml"):
        report.line(
            f"note: the predictor predicts {predicted!r}; measured here: {column} "
            "(compare with care)"
        )
    top = res.kept[: args.confirm]
    report.line(f"measuring the top {len(top)} on {args.device} ({column}) -> {path}")
    done = iter(range(1, len(top) + 1))
    measure_into_table(
        top,
        path,
        functools.partial(measure_memory, device=args.device, config=config, threads=threads),
        args.device,
        config,
        threads=threads,
        on_row=lambda _s, _r: progress and progress("confirming", next(done), len(top)),
    )
    table = read_table(path)
    table = table[table["status"] == "ok"].drop_duplicates("key", keep="last")
    by_key = dict(zip(table["key"], table[column]))
    search.confirm_top(
        res, lambda a: by_key.get(subject_columns(a, config)["key"], float("nan")), len(top)
    )
