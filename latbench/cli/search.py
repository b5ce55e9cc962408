"""``latbench search stnas|rtdnas|cakes|ga|memory-filter``: the papers' searches on CPU-sized
synthetic data, with costs from a lookup predictor fitted on a latency table."""

from __future__ import annotations

import argparse
from pathlib import Path

from latbench.cli.ui import console

SEARCHES = ("stnas", "rtdnas", "cakes", "ga", "memory-filter")
_SPACES = {"stnas": ("stnas-encoder", "stnas-decoder"), "rtdnas": ("msnas",), "ga": ("msnas",),
           "cakes": ("cakes",), "memory-filter": ("dints",)}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="run a paper's predictor-guided search (CPU-sized)")
    p.add_argument("which", choices=SEARCHES)
    p.add_argument("--size", default="small", choices=("small", "paper"),
                   help="small: CPU-sized spaces; paper: the papers' shapes (default: small)")
    p.add_argument("--table", type=Path, action="append", default=None,
                   help="latency table(s); default: device_profiles/<this device>/<space>-"
                        "<size>.csv, profiled first (100 ms/op) when missing")
    p.add_argument("--lam", type=float, default=None, help="regulariser weight (λ)")
    p.add_argument("--steps", type=int, default=20, help="architecture-parameter steps")
    p.add_argument("--seed", type=int, default=0, help="random seed of the search")
    p.add_argument("--beta", choices=("params", "latency"), default="latency", help="CAKES β")
    p.add_argument("--n-paths", type=int, default=3, help="GA: paths per individual (N_l)")
    p.add_argument("--upper-ms", type=float, default=None, help="RT-DNAS/GA latency bound")
    p.add_argument("--memory-model", type=Path, default=None,
                   help="memory-filter: a saved memory predictor (predict_archs, MiB)")
    p.add_argument("--target-mib", type=float, default=5067.0,
                   help="memory-filter: training-memory target, MiB (HyperSegNAS: 5067)")
    p.add_argument("--band-mib", type=float, default=300.0,
                   help="memory-filter: keep architectures within ± this of the target, MiB")
    p.add_argument("-n", type=int, default=2000, help="memory-filter: architectures sampled")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads of the latency table used (default 1: the committed tables)")
    p.set_defaults(func=run)


def cost_model(spaces: tuple[str, ...], size: str, tables: list[Path] | None,
               threads: int | None = 1):
    """A LookupPredictor over the given tables or the device's default ones."""
    import pandas as pd

    from latbench.device import fingerprint
    from latbench.profile import default_table_path, profile_specs
    from latbench.spaces import get_space
    from latbench.tables import read_table
    from latbench.timing import TimingConfig, make_timer
    from predictors.lookup import LookupPredictor

    if not tables:
        slug = fingerprint("cpu", threads=threads)["slug"]
        tables = []
        for name in spaces:
            path = default_table_path(slug, name, size)
            if not path.exists():
                console.print(f"no table {path}; profiling {name} ({size}) first")
                timer = make_timer("cpu", TimingConfig(warmup_ms=10, budget_ms=100,
                                                      min_sample_ms=0.5), threads=threads)
                profile_specs(get_space(name).ops(size), path, timer)
            tables.append(path)
    frame = pd.concat([read_table(t) for t in tables], ignore_index=True)
    console.print(f"costs: lookup predictor over {', '.join(map(str, tables))}")
    return LookupPredictor().fit(frame)


def run(args: argparse.Namespace) -> int:
    from nas import cli_runs as search_runs

    if args.which == "memory-filter":
        return search_runs.memory_filter(args)
    model = cost_model(_SPACES[args.which], args.size, args.table, args.threads)
    return getattr(search_runs, args.which)(args, model)
