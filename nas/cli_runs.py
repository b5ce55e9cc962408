"""The bodies of ``latbench search ...`` (argument parsing lives in latbench/cli/search.py)."""

from __future__ import annotations

import argparse

import numpy as np

from latbench.cli.ui import console, print_table
from latbench.errors import LatbenchError
from nas import demos, spaces_glue
from nas.demos_rtdnas import ga_decode, rtdnas as run_rtdnas


def _show(title: str, outcomes, fmt) -> None:  # noqa: ANN001
    print_table(title, ["λ", "choice", "predicted latency (ms)", "final task loss"],
                [(o.lam, fmt(o), o.latency_ms, o.task_loss) for o in outcomes])
    base, reg = outcomes[0], outcomes[-1]
    verdict = "cheaper" if reg.latency_ms < base.latency_ms else "NOT cheaper"
    console.print(f"λ={reg.lam:g} choice is {verdict} than λ=0: {reg.latency_ms:.4g} ms vs "
                  f"{base.latency_ms:.4g} ms (predicted)")


def stnas(args: argparse.Namespace, model) -> int:  # noqa: ANN001
    stages, between = spaces_glue.stnas_encoder_layout(args.size)
    lam = 0.5 if args.lam is None else args.lam
    enc = demos.stnas_encoder(stages, between, model, [0.0, lam], args.steps, args.seed)
    _show("ST-NAS encoder depth (blocks kept per stage)", enc, lambda o: str(o.choice))
    layers, names = spaces_glue.stnas_decoder_layers(args.size)
    dec = demos.stnas_decoder(layers, model, [0.0, lam], args.steps, args.seed)
    _show("ST-NAS decoder ops", dec, lambda o: ", ".join(names[j] for j in o.choice))
    return 0


def cakes(args: argparse.Namespace, model) -> int:  # noqa: ANN001
    cands, names = spaces_glue.cakes_candidates(args.size)
    lam = 0.05 if args.lam is None else args.lam
    out = demos.cakes(cands, model, [0.0, lam], args.beta, args.steps, args.seed)
    console.print(f"β ({args.beta}): " + ", ".join(f"{n}={b:.3f}" for n, b in
                                                   zip(names, out[0].extra["beta"])))
    _show("CAKES channels per sub-kernel", out,
          lambda o: " ".join(f"{n}:{c}" for n, c in zip(names, o.choice) if c))
    return 0


def rtdnas(args: argparse.Namespace, model) -> int:  # noqa: ANN001
    from latbench.spaces import msnas

    op_ms, scaling_ms, names = spaces_glue.msnas_costs(model, args.size)
    shape = next(iter(msnas.cell_ops(0, args.size).values())).input_shape
    lam = 10.0 if args.lam is None else args.lam
    out = run_rtdnas(op_ms, scaling_ms, spaces_glue.msnas_modules(args.size), shape,
                     [0.0, lam], upper_ms=args.upper_ms, steps=args.steps, seed=args.seed)
    console.print(f"L_ub = {out[0].extra['upper_ms']:.4g} ms")
    _show("RT-DNAS cell genotype (input, op) per node", out,
          lambda o: "; ".join(",".join(f"X{j}:{names[k]}" for j, k in node) for node in o.choice))
    return _ga_report(out[-1], op_ms, scaling_ms, args)


def _ga_report(outcome, op_ms, scaling_ms, args) -> int:  # noqa: ANN001
    from nas.rtdnas import legal_moves

    mask = legal_moves(op_ms.shape[0])
    ub = args.upper_ms if args.upper_ms is not None else 50.0
    pool, res = ga_decode(outcome.extra["move_probs"], outcome.extra["cell_ms"], scaling_ms,
                          mask, args.n_paths, np.random.default_rng(args.seed), upper_ms=ub)
    print_table(f"GA decoding: best {args.n_paths} of the top {len(pool)} paths",
                ["gene", "path (scale per layer)", "accumulated weight"],
                [(int(g), "-".join(map(str, pool.paths[g])), float(pool.weights[g]))
                 for g in res.genes])
    console.print(f"predicted latency {res.latency_ms:.4g} ms (≤ {ub:g} ms: "
                  f"{'yes' if res.feasible else 'NO'}), {res.n_evals} distinct evaluations")
    return 0


def ga(args: argparse.Namespace, model) -> int:  # noqa: ANN001
    """GA alone, on network weights β drawn from a seeded RNG (synthetic, not trained)."""
    import torch

    from nas.demos import Outcome
    from nas.rtdnas import NetworkLatency, discrete_cell_latency

    op_ms, scaling_ms, _ = spaces_glue.msnas_costs(model, args.size)
    torch.manual_seed(args.seed)
    lat = NetworkLatency(10, 3, op_ms, scaling_ms)
    with torch.no_grad():
        lat.beta.normal_(0, 1.0)
        for v in lat.cell.v:
            v.normal_(0, 1.0)
    geno = lat.cell.genotype()
    console.print("synthetic network weights (seeded), cell latencies from the predictor")
    return _ga_report(Outcome(0.0, geno, 0.0, 0.0, {
        "move_probs": lat.move_probs().detach(),
        "cell_ms": discrete_cell_latency(geno, op_ms)}), op_ms, scaling_ms, args)


SCREEN_CALIBRATION = 32  # full predictions the per-op fast path is calibrated on


def _screened(model: object, archs: list, target_mib: float, band_mib: float) -> object:
    """A band screen around a trace-based memory predictor (None for other models)."""
    from nas.memory_filter import BandScreen
    from predictors.memory import TrainingMemoryPredictor
    from predictors.memory_screen import MemoryScreen

    if not isinstance(model, TrainingMemoryPredictor) or len(archs) <= SCREEN_CALIBRATION:
        return None
    screen = MemoryScreen(model).fit(archs[:SCREEN_CALIBRATION])
    return BandScreen(screen, target_mib, band_mib, n_jobs=2)


def memory_filter(args: argparse.Namespace) -> int:
    import time

    from latbench.archs import sample_architectures
    from nas.memory_filter import MemoryModel, filter_by_memory
    from predictors.persist import load

    if args.memory_model is None:
        raise LatbenchError("memory-filter needs --memory-model PATH: a saved training-memory "
                            "predictor with predict_archs (see `latbench fit`)")
    model = load(args.memory_model)
    if not isinstance(model, MemoryModel):
        raise LatbenchError(f"{args.memory_model} holds a {type(model).__name__}, which has no "
                            "predict_archs(archs) -> MiB; fit a memory predictor")
    t0 = time.perf_counter()
    archs = sample_architectures("dints", args.n, args.size, args.seed)
    screened = _screened(model, archs, args.target_mib, args.band_mib)
    res = filter_by_memory(archs, screened or model, args.target_mib, args.band_mib)
    took = time.perf_counter() - t0
    if screened is not None:
        print(f"screened {len(archs)} architectures: per-op estimate for all, full trace for "
              f"{screened.n_full_} near the band edges (margin {screened.screen.margin_mib_:.0f} MiB)")
    print_table(f"kept {len(res.kept)}/{res.n_sampled} within ±{args.band_mib:g} MiB of "
                f"{args.target_mib:g} MiB ({took:.1f} s)", ["rank", "genotype", "predicted MiB"],
                [(i, a.genotype, float(m)) for i, (a, m) in
                 enumerate(zip(res.kept[:10], res.predicted_mib[:10]))])
    return 0
