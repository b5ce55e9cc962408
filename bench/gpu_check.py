"""Every GPU code path of latbench in one short run, so that a GPU loan is spent measuring.

    python bench/gpu_check.py [--out DIR] [--device cuda:0] [--dry-run] [--budget-s 480]

Steps (each a fresh ``python -m latbench ...`` or pytest process, run from the repository
root so this checkout is imported): the doctor and NVML fingerprint, the GPU tests
(``-m cuda``), a small op profile with the CUDA-event timer, whole networks, a fitted lookup +
network predictor and its evaluation, ``validate`` on torch / ORT CUDA / ORT TensorRT /
TensorRT, and the memory bullet (``memory dints --device cuda:0 --n 20`` measured, then
predicted with ``--calibrate``). Tables, logs, reports and ``summary.json`` / ``summary.md``
go into one folder: ``--out``, else ``$OUT``, else ``bench_out/gpu-check-<UTC time>``.

Fails soft per step: a step whose requirement is missing (no CUDA, no tensorrt, no
onnxruntime CUDA provider) is skipped and says why; a failing or timed-out step is recorded
with its exit code and log, and the next step runs. Steps that need an earlier step's output
are skipped when it is missing. The whole run stops starting new steps when ``--budget-s``
(default 480 s = 8 min) is spent. Exit code: 0 when no step failed (skips are fine), else 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Step:
    """One command; ``needs`` returns '' when it can run, else why it is skipped."""

    name: str
    what: str
    argv: list[str]
    timeout_s: int
    needs: Callable[[], str] = lambda: ""
    env: dict[str, str] = field(default_factory=dict)
    inputs: tuple[Path, ...] = ()
    """Files an earlier step writes and this one reads (the dry run follows them)."""
    outputs: tuple[Path, ...] = ()


@dataclass
class Outcome:
    name: str
    status: str  # ok | failed | timeout | skipped
    seconds: float = 0.0
    rc: int | None = None
    why: str = ""
    log: str = ""


def _cuda() -> str:
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    return "" if torch.cuda.is_available() else "no CUDA GPU visible to torch"


def _module(name: str) -> Callable[[], str]:
    return lambda: "" if importlib.util.find_spec(name) else f"python package {name!r} missing"


def _ort_provider(provider: str) -> Callable[[], str]:
    def check() -> str:
        try:
            import onnxruntime as ort
        except ImportError:
            return "onnxruntime is not installed"
        return (
            ""
            if provider in ort.get_available_providers()
            else (f"onnxruntime has no {provider} (install onnxruntime-gpu)")
        )

    return check


def _all(*checks: Callable[[], str]) -> Callable[[], str]:
    return lambda: next((why for why in (c() for c in checks) if why), "")


def _exists(path: Path) -> Callable[[], str]:
    return lambda: "" if path.is_file() else f"{path.name} was not produced by an earlier step"


def steps(out: Path, device: str) -> list[Step]:
    """The steps in order, writing under ``out``."""
    lb = [sys.executable, "-m", "latbench"]
    ops, nets = out / "tables" / "nasbench201-ops.csv", out / "tables" / "nasbench201-nets.csv"
    pred, mem = out / "nasbench201-predictor.json", out / "tables" / "memory-dints-small.csv"
    backends = "torch,ort,ort-trt,trt"
    cuda_tests = Step(
        "pytest-cuda",
        "the GPU tests (-m cuda)",
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-m",
            "cuda",
            "-p",
            "no:cacheprovider",
            f"--junitxml={out / 'pytest-cuda.xml'}",
        ],
        150,
        _cuda,
    )
    return [
        Step(
            "doctor",
            "support table for this GPU (exit 1 = an installed package does not fit it)",
            lb + ["doctor", "--json"],
            30,
        ),
        Step("devices", "NVML fingerprint of the GPU", lb + ["devices", "--json"], 30),
        Step(
            "profile",
            "nasbench201 small ops, CUDA-event timer",
            lb
            + [
                "profile",
                "nasbench201",
                "--size",
                "small",
                "--device",
                device,
                "--table",
                str(ops),
                "--budget-ms",
                "100",
                "--warmup-ms",
                "20",
            ],
            60,
            _cuda,
            outputs=(ops,),
        ),
        Step(
            "measure-nets",
            "20 whole nasbench201 networks (small)",
            lb
            + [
                "measure-nets",
                "nasbench201",
                "--size",
                "small",
                "--device",
                device,
                "--n",
                "20",
                "--table",
                str(nets),
                "--budget-ms",
                "150",
                "--warmup-ms",
                "20",
            ],
            60,
            _cuda,
            outputs=(nets,),
        ),
        Step(
            "fit",
            "lookup + network predictor on the two tables",
            lb + ["fit", str(ops), "--networks", str(nets), "-o", str(pred)],
            30,
            _all(_exists(ops), _exists(nets)),
            inputs=(ops, nets),
            outputs=(pred,),
        ),
        Step(
            "evaluate",
            "the predictor on the measured networks",
            lb
            + [
                "evaluate",
                str(pred),
                str(nets),
                "--json",
                str(out / "evaluate.json"),
                "--plot",
                str(out / "evaluate.png"),
            ],
            30,
            _all(_exists(pred), _exists(nets)),
            inputs=(pred, nets),
        ),
        Step(
            "validate",
            f"nasbench201:0:small on {backends} (ORT CUDA/TensorRT EPs, TensorRT)",
            lb
            + [
                "validate",
                "nasbench201:0:small",
                "--device",
                device,
                "--backend",
                backends,
                "--skip-unavailable",
                "--measure-ms",
                "1000",
                "--predictor",
                str(pred),
                "--out",
                str(out / "validate"),
                "--json",
            ],
            180,  # two cold TensorRT engine builds (trt, ort-trt) before measuring
            _all(_cuda, _ort_provider("CUDAExecutionProvider")),
        ),
        Step(
            "memory",
            "training memory of 20 dints networks (NVML + allocator)",
            lb + ["memory", "dints", "--device", device, "--n", "20", "--table", str(mem)],
            150,
            _cuda,
            outputs=(mem,),
        ),
        Step(
            "memory-predict",
            "the memory predictor calibrated on that table",
            lb
            + [
                "memory",
                "dints",
                "--device",
                device,
                "--n",
                "20",
                "--predict",
                "--calibrate",
                str(mem),
            ],
            30,
            _exists(mem),
            inputs=(mem,),
        ),
        cuda_tests,  # last: whatever time is left (the steps above are the measurements)
    ]


def _without_missing_inputs(argv: list[str]) -> list[str]:
    """``--predictor FILE`` dropped when FILE was not produced (validate still runs)."""
    out, skip = [], False
    for i, a in enumerate(argv):
        if skip:
            skip = False
            continue
        if a == "--predictor" and i + 1 < len(argv) and not Path(argv[i + 1]).is_file():
            skip = True
            continue
        out.append(a)
    return out


def dry_run_why(step: Step, produced: set[Path]) -> str:
    """Why ``step`` would be skipped on a real run ('' when it would run): its own needs, or
    an input that no earlier step that runs writes (``produced``)."""
    missing = [p for p in step.inputs if p not in produced and not p.is_file()]
    if missing:
        return f"its input {missing[0].name} comes from a step that is skipped"
    why = step.needs()
    return "" if "earlier step" in why else why


def run_step(step: Step, logs: Path, left_s: float) -> Outcome:
    why = step.needs()
    if why:
        return Outcome(step.name, "skipped", why=why)
    argv = _without_missing_inputs(step.argv)
    limit = max(1, int(min(step.timeout_s, left_s)))
    log = logs / f"{step.name}.log"
    start = time.monotonic()
    with log.open("w", encoding="utf-8") as fh:
        fh.write("$ " + " ".join(argv) + "\n")
        fh.flush()
        try:
            rc = subprocess.run(
                argv,
                cwd=ROOT,
                stdout=fh,
                stderr=subprocess.STDOUT,
                timeout=limit,
                env={**os.environ, **step.env},
            ).returncode
        except subprocess.TimeoutExpired:
            return Outcome(
                step.name,
                "timeout",
                time.monotonic() - start,
                why=f"killed after {limit} s",
                log=str(log),
            )
    status = "ok" if rc == 0 or (step.name == "doctor" and rc == 1) else "failed"
    return Outcome(
        step.name,
        status,
        time.monotonic() - start,
        rc,
        "doctor: an installed package does not support this GPU"
        if step.name == "doctor" and rc == 1
        else "",
        str(log),
    )


def write_summary(out: Path, outcomes: list[Outcome], started: str, device: str) -> None:
    doc = {
        "started": started,
        "device": device,
        "host": os.uname().nodename,
        "steps": [asdict(o) for o in outcomes],
    }
    (out / "summary.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# latbench GPU check ({started}, {device})",
        "",
        "| step | status | seconds | rc | note |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {o.name} | {o.status} | {o.seconds:.0f} | {'' if o.rc is None else o.rc} | {o.why} |"
        for o in outcomes
    ]
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for tables, logs and the summary (default: $OUT, else "
        "bench_out/gpu-check-<time>)",
    )
    parser.add_argument("--device", default="cuda:0", help="the GPU (default: cuda:0)")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=480.0,
        help="start no step after this many seconds (default: 480)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list the steps, their commands and whether each could run",
    )
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or Path(os.environ.get("OUT") or ROOT / "bench_out" / f"gpu-check-{started}")
    plan = steps(out, args.device)
    if args.dry_run:
        produced: set[Path] = set()
        for s in plan:
            why = dry_run_why(s, produced)
            produced.update(() if why else s.outputs)
            print(f"{s.name:15s} {s.timeout_s:4d}s  {'run' if not why else 'skip: ' + why}")
            print(f"{'':15s}        {s.what}\n{'':15s}        $ {' '.join(s.argv)}")
        print(f"total time limit {sum(s.timeout_s for s in plan)} s, budget {args.budget_s:g} s")
        return 0
    (out / "logs").mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(exist_ok=True)
    t0, outcomes = time.monotonic(), []
    for step in plan:
        left = args.budget_s - (time.monotonic() - t0)
        outcome = (
            run_step(step, out / "logs", left)
            if left > 5
            else Outcome(step.name, "skipped", why="time budget spent")
        )
        outcomes.append(outcome)
        print(
            f"{outcome.name:15s} {outcome.status:8s} {outcome.seconds:5.0f}s {outcome.why}",
            flush=True,
        )
        write_summary(out, outcomes, started, args.device)  # a killed run keeps its summary
    print(f"summary: {out / 'summary.md'}")
    return 1 if any(o.status in ("failed", "timeout") for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
