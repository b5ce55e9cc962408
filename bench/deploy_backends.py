"""Per-backend latency of exported architectures, side by side, with ratios to PyTorch eager.

For one architecture per space (seed 0, small size), every available backend is measured in
interleaved rounds; the script prints each backend's median over rounds of the per-round median
latency, the ratio backend / torch, and whether outputs matched torch. Backends whose package
is missing are listed as unavailable (never silently dropped).

    python bench/deploy_backends.py [--spaces nasbench201,msnas,stnas-decoder] [--rounds 3]
        [--device cpu] [--threads 1] [--backends torch,ort,ort-trt,trt]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from latbench.deploy.validate import ValidateOptions, resolve_architecture, timing_config, validate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spaces", default="nasbench201,msnas,stnas-decoder")
    ap.add_argument("--backends", default="torch,ort,ort-trt,trt")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--measure-ms", type=float, default=1000.0)
    args = ap.parse_args()
    backends = args.backends.split(",")
    out = Path(tempfile.mkdtemp(prefix="latbench-deploy-bench-"))
    opts = ValidateOptions(
        device=args.device, threads=args.threads, out_dir=out, skip_unavailable=True
    )
    print(
        f"device {args.device}, threads {args.threads}, {args.rounds} rounds, "
        f"{args.measure_ms:.0f} ms per backend per round"
    )
    print(
        f"{'arch':28s} {'backend':8s} {'median ms':>10s} {'vs torch':>9s} {'FPS':>8s} "
        f"{'match':>6s}  engine"
    )
    for space in args.spaces.split(","):
        arch = resolve_architecture(f"{space}:0")
        rounds: dict[str, list[float]] = {}
        last = {}
        for _ in range(args.rounds):
            report = validate(
                arch, backends, options=opts, config=timing_config(args.device, args.measure_ms)
            )
            for b in report.backends:
                last[b.backend] = b
                if b.status == "ok":
                    rounds.setdefault(b.backend, []).append(b.latency_ms)
        base = statistics.median(rounds["torch"]) if "torch" in rounds else None
        for name in backends:
            b = last[name]
            if name not in rounds:
                print(
                    f"{arch.name:28s} {name:8s} {'-':>10s} {'-':>9s} {'-':>8s} {'-':>6s}  "
                    f"{b.status}: {b.error.split(';')[0][:60]}"
                )
                continue
            med = statistics.median(rounds[name])
            ratio = f"{med / base:.3f}" if base else "-"
            print(
                f"{arch.name:28s} {name:8s} {med:10.3f} {ratio:>9s} {1000 / med:8.1f} "
                f"{str(b.outputs_match):>6s}  {b.info.get('engine')}"
            )


if __name__ == "__main__":
    main()
