"""The bodies of ``latbench search ...``: call the paper's search module, draw its progress,
print its result (argument parsing and cost models live in ``latbench.cli.search``)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import TaskID


@contextlib.contextmanager
def progress() -> Iterator:
    """A ``latbench.nas.synthetic.Progress`` callback drawing one bar per label on stderr."""
    from latbench.cli.ui import progress_bar

    with progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

        def report(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total, status="")
            bar.update(tasks[label], completed=done, total=total)

        yield report


def _show(title: str, outcomes, fmt) -> None:  # noqa: ANN001
    """One row per run; the last run's latency beside the first's (λ = 0) when there are two."""
    from latbench.cli.ui import console, print_table

    print_table(
        title,
        ["λ", "choice", "predicted latency (ms)", "final task loss"],
        [
            (o.lam, fmt(o), o.latency_ms, "-" if o.task_loss is None else o.task_loss)
            for o in outcomes
        ],
    )
    if len(outcomes) < 2:
        return
    base, reg = outcomes[0], outcomes[-1]
    verdict = "cheaper" if reg.latency_ms < base.latency_ms else "NOT cheaper"
    console.print(
        f"λ={reg.lam:g} choice is {verdict} than λ=0: {reg.latency_ms:.4g} ms vs "
        f"{base.latency_ms:.4g} ms (predicted)"
    )


def stnas(args: argparse.Namespace, module: ModuleType, models: list) -> int:
    lam = module.DEFAULT_LAMBDA if args.lam is None else args.lam
    with progress() as report:
        out = module.search(
            models[0], args.size, lam, args.steps, args.seed, report, decoder_model=models[1]
        )
    _show("ST-NAS encoder depth (blocks kept per stage)", out.encoder, lambda o: str(o.choice))
    _show("ST-NAS decoder ops", out.decoder, lambda o: ", ".join(out.op_names[j] for j in o.choice))
    return 0


def cakes(args: argparse.Namespace, module: ModuleType, models: list) -> int:
    from latbench.cli.ui import console

    lam = module.DEFAULT_LAMBDA if args.lam is None else args.lam
    with progress() as report:
        out = module.search(models[0], args.size, lam, args.beta, args.steps, args.seed, report)
    console.print(
        f"β ({args.beta}): " + ", ".join(f"{n}={b:.3f}" for n, b in zip(out.names, out.beta))
    )
    _show(
        "CAKES channels per sub-kernel",
        out.runs,
        lambda o: " ".join(f"{n}:{c}" for n, c in zip(out.names, o.choice) if c),
    )
    return 0


def rtdnas(args: argparse.Namespace, module: ModuleType, models: list) -> int:
    from latbench.cli.ui import console

    lam = module.DEFAULT_LAMBDA if args.lam is None else args.lam
    with progress() as report:
        out = module.search(
            models[0], args.size, lam, args.upper_ms, args.n_paths, args.steps, args.seed, report
        )
    how = (
        "--upper-ms"
        if args.upper_ms is not None
        else "0.8 × the expected latency at the start, so that it binds on this backbone"
    )
    console.print(
        f"cell search L_ub = {out.runs[0].extra['upper_ms']:.4g} ms ({how}); GA "
        f"decoding under {out.upper_ms:g} ms and {out.min_fps:g} FPS"
    )
    _show("RT-DNAS cell genotype (op~input per node)", out.runs, out.genotype)
    return _ga_report(out)


def ga(args: argparse.Namespace, module: ModuleType, models: list) -> int:
    from latbench.cli.ui import console

    with progress() as report:
        out = module.ga(models[0], args.size, args.upper_ms, args.n_paths, args.seed, report)
    console.print(
        "synthetic network weights (seeded), cell latencies from the predictor; "
        f"cell {out.genotype(out.runs[0])}"
    )
    return _ga_report(out)


def registered(args: argparse.Namespace, entry, space: str, model) -> int:  # noqa: ANN001
    """A registered search (``latbench.nas.searches``): its runs, then the chosen genotype and
    its predicted latency. A non-finite predicted latency or loss is an error, never printed
    (``Outcome`` refuses one when it is made)."""
    from latbench.cli.ui import console
    from latbench.errors import LatbenchError

    lam = entry.default_lambda if args.lam is None else args.lam
    with progress() as report:
        out = entry.function()(model, space, args.size, lam, args.steps, args.seed, report)
    runs = list(out.runs)
    if not runs:
        raise LatbenchError(f"search {entry.name} on {space}: no run")
    if getattr(out, "note", ""):
        console.print(out.note, markup=False)
    _show(f"{entry.name} on {space} ({args.size})", runs, out.genotype)
    console.print(
        f"chosen genotype {out.genotype(runs[-1])}: predicted latency_ms {runs[-1].latency_ms:.4g}",
        markup=False,
    )
    return 0


def _ga_report(out) -> int:  # noqa: ANN001
    from latbench.cli.ui import console, print_table

    pool, res = out.pool, out.decoded
    print_table(
        f"GA decoding: best {out.n_paths} of the top {len(pool)} paths",
        ["gene", "path (scale per layer)", "accumulated weight"],
        [(int(g), "-".join(map(str, pool.paths[g])), float(pool.weights[g])) for g in res.genes],
    )
    console.print(
        f"predicted latency {res.latency_ms:.4g} ms (≤ {out.upper_ms:g} ms and ≥ "
        f"{out.min_fps:g} FPS: {'yes' if res.feasible else 'NO'}), "
        f"{res.n_evals} distinct evaluations"
    )
    return 0


def hypersegnas(args: argparse.Namespace, module: ModuleType, model) -> int:  # noqa: ANN001
    import time

    from latbench.cli.ui import console, print_table

    ray = None
    if args.ray is not None:
        from latbench.fleet import connect

        ray = connect(None if args.ray == "local" else args.ray, args.ray_cpus)
    t0 = time.perf_counter()
    with progress() as report:
        out = module.search(
            model,
            args.n,
            args.target_mib,
            args.band_mib,
            args.size,
            args.seed,
            n_jobs=args.jobs,
            progress=report,
            ray=ray,
        )
    res, took = out.result, time.perf_counter() - t0
    if out.screened:
        console.print(
            f"screened {res.n_sampled} architectures: per-op estimate for all, full "
            f"trace for {out.n_full} near the band edges (margin "
            f"{out.margin_mib:.0f} MiB)"
        )
    if args.confirm and not res.kept:
        console.print("nothing kept, nothing to confirm")
    elif args.confirm:
        _confirm(args, module, res, model)
    top = max(10, args.confirm)
    print_table(
        f"kept {len(res.kept)}/{res.n_sampled} within ±{args.band_mib:g} MiB of "
        f"{args.target_mib:g} MiB (predicted in {took:.1f} s)",
        ["rank", "genotype", "predicted MiB"] + (["measured MiB"] if args.confirm else []),
        [
            (i, a.genotype, float(m)) + ((res.measured_mib.get(i, ""),) if args.confirm else ())
            for i, (a, m) in enumerate(zip(res.kept[:top], res.predicted_mib[:top]))
        ],
    )
    if (res.few_kept or res.band_covers_all) and res.sampled_mib is not None:
        console.print(band_hint(res, args.size), markup=False)
    if res.measured_mib:
        inside = res.within_band(list(res.measured_mib.values()))
        console.print(
            f"measured on {args.device}: {int(inside.sum())}/{len(inside)} of the top "
            f"{len(inside)} inside the band"
        )
    return 0


def band_hint(res, size: str) -> str:  # noqa: ANN001
    """One line for a band that kept (almost) nothing, or everything: where the band and the
    samples' predicted memory lie, and option values that make the band discriminate."""
    from latbench.papers import DINTS_TARGETS_MIB

    lo, mid, hi = res.sampled_mib
    band_lo, band_hi = res.target_mib - res.band_mib, res.target_mib + res.band_mib
    width = res.discriminating_band_mib
    narrower = (
        f"--band-mib (e.g. {width:.3g}, a tenth of the samples' range)"
        if width is not None
        else "--band-mib (the samples all predict the same memory: no band tells them apart)"
    )
    samples = (
        f"the samples' predicted memory is {lo:.4g}-{hi:.4g} MiB (median {mid:.4g}) at size {size}"
    )
    if res.band_covers_all:
        return (
            f"hint: kept {len(res.kept)}/{res.n_sampled}: the band {band_lo:g}-{band_hi:g} "
            f"MiB is wider than the samples' whole range, so it discriminates nothing: "
            f"{samples}; set {narrower}"
        )
    paper = (
        "the default target is DiNTS' (paper-size networks on a GPU); "
        if res.target_mib in DINTS_TARGETS_MIB
        else ""
    )
    where = (
        "above every sample"
        if band_lo > hi
        else "below every sample"
        if band_hi < lo
        else "at the edge of the samples"
    )
    wide = (
        f" and {narrower}"
        if width is not None and 2 * res.band_mib >= hi - lo
        else " or widen --band-mib"
    )
    return (
        f"hint: kept {len(res.kept)}/{res.n_sampled}: the band {band_lo:g}-{band_hi:g} MiB "
        f"lies {where}, whose predicted memory is {lo:.4g}-{hi:.4g} MiB (median "
        f"{mid:.4g}) at size {size}; {paper}set --target-mib (e.g. {mid:.4g}){wide}"
    )


def _confirm(args: argparse.Namespace, module: ModuleType, res, model) -> None:  # noqa: ANN001
    """Measure the top ``--confirm`` kept networks (a fresh process each) into the device's
    memory table, under the predictor's training config."""
    from latbench.cli.ui import console
    from latbench.device import fingerprint
    from latbench.memory import TrainConfig
    from latbench.memory.cpu import measure_cpu
    from latbench.memory.gpu import measure_gpu
    from latbench.memory.table import default_memory_table, measure_into_table, subject_columns
    from latbench.tables import read_table

    cpu = args.device == "cpu"
    threads = args.threads if cpu else None
    config = getattr(model, "config", TrainConfig())
    path = args.memory_table or default_memory_table(
        fingerprint(args.device, threads=threads)["slug"], f"dints-{args.size}"
    )
    column = "rss_growth_mib" if cpu else "nvml_process_mib"
    predicted = getattr(model, "target", None)
    if predicted not in (None, "rss_growth" if cpu else "nvml"):
        console.print(
            f"note: the predictor predicts {predicted!r}; measured here: {column} "
            "(compare with care)"
        )
    measure = (
        (lambda s: measure_cpu(s, config, threads))
        if cpu
        else (lambda s: measure_gpu(s, config, args.device))
    )
    top = res.kept[: args.confirm]
    console.print(f"measuring the top {len(top)} on {args.device} ({column}) -> {path}")
    with progress() as report:
        done = iter(range(1, len(top) + 1))
        measure_into_table(
            top,
            path,
            measure,
            args.device,
            config,
            threads=threads,
            on_row=lambda _s, _r: report("confirming", next(done), len(top)),
        )
    table = read_table(path)
    table = table[table["status"] == "ok"].drop_duplicates("key", keep="last")
    by_key = dict(zip(table["key"], table[column]))
    module.confirm_top(
        res, lambda a: by_key.get(subject_columns(a, config)["key"], float("nan")), len(top)
    )
