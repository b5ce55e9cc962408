"""CLI start-up cost: CPU seconds of `latbench --help` and `latbench CMD --help` beside
`python -c 'import torch'` (the floor of any command that needs torch), in one run.

    python bench/cli_startup.py [--repeat 3] [--commands profile,fit,...]

Each line is the median over ``--repeat`` fresh processes of user+sys CPU time (children's
rusage), so other processes' load changes it less than wall time. Run from the repository root
so that this checkout's latbench is imported.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys


def cpu_seconds(cmd: list[str]) -> float:
    """user + sys CPU seconds of one run of ``cmd`` (stdout discarded)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per line")
    parser.add_argument(
        "--commands",
        default="profile,show,validate,fit,memory",
        help="subcommands whose --help is timed (comma-separated)",
    )
    args = parser.parse_args(argv)
    py = sys.executable
    cases = [
        ("python -c pass", [py, "-c", "pass"]),
        ("python -c 'import torch'", [py, "-c", "import torch"]),
        ("latbench --help", [py, "-m", "latbench", "--help"]),
    ]
    cases += [
        (f"latbench {c} --help", [py, "-m", "latbench", c, "--help"])
        for c in args.commands.split(",")
        if c
    ]
    times = {
        name: statistics.median(cpu_seconds(cmd) for _ in range(args.repeat)) for name, cmd in cases
    }
    torch_s = times["python -c 'import torch'"]
    print(f"{'command':34s} {'CPU s':>7s} {'- import torch':>15s}")
    for name, t in times.items():
        print(f"{name:34s} {t:7.2f} {t - torch_s:+15.2f}")
    print(
        f"(median of {args.repeat}; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
