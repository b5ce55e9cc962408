"""The fresh process a memory measurement runs in (a clean CUDA context, caching allocator and
peak RSS): ``python -m latbench.memory.child`` reads one JSON job on stdin and prints one JSON
result line; failures (OOM included) come back as ``status``/``error`` fields.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from latbench.memory.cpu import measure_cpu_here
from latbench.memory.gpu import measure_gpu_here
from latbench.memory.steps import TrainConfig, subject_from_json
from latbench.timed import failure_fields, is_oom

CHILD_TIMEOUT_S = 900.0


def run_child(
    job: dict[str, Any], env: dict[str, str] | None = None, timeout_s: float = CHILD_TIMEOUT_S
) -> dict[str, Any]:
    """Run a job in a fresh ``python -m latbench.memory.child``; its JSON result."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "latbench.memory.child"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return {
            "status": "timeout",
            "error": f"measurement child gave no result within {timeout_s:g} s; ended",
        }
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1][:500]
        oom = proc.returncode in (-9, 137) or is_oom(RuntimeError(proc.stderr[-2000:]))
        status = "oom" if oom else "crashed" if proc.returncode < 0 else "error"
        return {"status": status, "error": f"measurement child exited {proc.returncode}: {tail}"}
    return json.loads(lines[-1])


def main() -> int:
    """Run the job on stdin in this process and print its result line."""
    job = json.loads(sys.stdin.read())
    subject = subject_from_json(job["subject"])
    config = TrainConfig(**job["config"])
    try:
        if job["device"].startswith("cuda"):
            result = measure_gpu_here(subject, config, job["device"])
        else:
            result = measure_cpu_here(subject, config, job.get("threads"))
        result = {"status": "ok", "error": "", **result}
    except Exception as exc:  # noqa: BLE001 - every failure is a recorded result
        result = failure_fields(exc)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
