"""The fresh process a memory measurement runs in (a clean CUDA context, caching allocator and
peak RSS): ``python -m latbench.memory.child`` reads one JSON job on stdin and prints one JSON
result line; failures (OOM included) come back as ``status``/``error`` fields.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from latbench.memory.cpu import measure_cpu_here
from latbench.memory.gpu import measure_gpu_here
from latbench.memory.steps import TrainConfig, subject_from_json
from latbench.timed import failure_fields


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement job in this process (used by ``main`` in the child)."""
    subject = subject_from_json(job["subject"])
    config = TrainConfig(**job["config"])
    try:
        if job["device"] == "cpu":
            result = measure_cpu_here(subject, config, job.get("threads"))
        else:
            result = measure_gpu_here(subject, config, job["device"])
    except Exception as exc:  # noqa: BLE001 - every failure is a recorded result
        return failure_fields(exc)
    return {"status": "ok", "error": "", **result}


def main() -> int:
    job = json.loads(sys.stdin.read())
    print(json.dumps(run_job(job)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
