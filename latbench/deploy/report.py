"""The validation report: measured vs predicted per backend, the gap, pass/fail, provenance.

One object, two renderings: ``to_json`` for machines (every number with the environment it came
from) and ``to_markdown`` for people.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

NO_PREDICTION = "no prediction"


@dataclass(frozen=True)
class BackendResult:
    """One backend's outcome: ``status`` is ok, unavailable (missing package) or failed."""

    backend: str
    status: str
    info: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)
    predicted_ms: float | None = None
    gap_pct: float | None = None
    max_abs_diff: float | None = None
    outputs_match: bool | None = None
    error: str = ""

    @property
    def latency_ms(self) -> float | None:
        return self.stats.get("latency_median_ms")

    @property
    def fps(self) -> float | None:
        return self.budget.get("fps")

    @property
    def passed(self) -> bool | None:
        return self.budget.get("passed")


def gap_pct(measured_ms: float, predicted_ms: float | None) -> float | None:
    """(measured - predicted) / predicted in %; positive: slower than predicted."""
    if predicted_ms is None or predicted_ms <= 0:
        return None
    return 100.0 * (measured_ms - predicted_ms) / predicted_ms


@dataclass
class ValidationReport:
    """Everything ``latbench validate`` found, in a plain, JSON-round-trippable form."""

    arch: dict[str, Any]
    device: dict[str, Any]
    prediction: dict[str, Any]
    budget_ms: float | None
    min_fps: float | None
    timing: dict[str, Any]
    onnx: dict[str, Any] | None = None
    backends: list[BackendResult] = field(default_factory=list)

    @property
    def passed(self) -> bool | None:
        """False if any measured backend breaks a constraint; None if none was checked."""
        verdicts = [b.passed for b in self.backends if b.status == "ok" and b.passed is not None]
        return all(verdicts) if verdicts else None

    def to_dict(self) -> dict[str, Any]:
        return {"arch": self.arch, "device": self.device, "prediction": self.prediction,
                "budget_ms": self.budget_ms, "min_fps": self.min_fps, "timing": self.timing,
                "onnx": self.onnx, "passed": self.passed,
                "backends": [asdict(b) for b in self.backends]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ValidationReport":
        fields = {k: data[k] for k in ("arch", "device", "prediction", "budget_ms", "min_fps",
                                       "timing", "onnx")}
        return cls(**fields, backends=[BackendResult(**b) for b in data.get("backends", [])])

    def rows(self) -> list[tuple[str, ...]]:
        """One row per backend for tables: backend, engine, latency, fps, predicted, gap, verdict."""
        return [_row(b) for b in self.backends]

    def to_markdown(self) -> str:
        head = (f"# latbench validate: {self.arch.get('name') or self.arch.get('space')}\n\n"
                f"- architecture: {self.arch.get('space')} {self.arch.get('genotype', '')}"
                f" ({self.arch.get('n_edges')} edges, input {self.arch.get('input_shape')})\n"
                f"- device: {self.device.get('name')} ({self.device.get('slug')})\n"
                f"- budget: latency <= {_fmt(self.budget_ms)} ms, throughput >= "
                f"{_fmt(self.min_fps)} FPS\n"
                f"- prediction: {self.prediction.get('note') or self.prediction.get('source')}"
                f"{gap_basis(self.prediction)}\n"
                f"- ONNX: {self.onnx.get('path') if self.onnx else 'not exported'}"
                f"{' (opset ' + str(self.onnx.get('opset')) + ')' if self.onnx else ''}\n\n")
        cols = ("backend", "engine", "median ms", "FPS", "predicted ms", "gap %", "verdict")
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows()]
        notes = [f"- {b.backend}: {b.error}" for b in self.backends if b.error]
        tail = f"\noverall: {_verdict(self.passed)}\n"
        return head + "\n".join(lines) + "\n" + ("\n" + "\n".join(notes) + "\n" if notes
                                                  else "") + tail


def gap_basis(prediction: dict) -> str:
    """What the gap compares, when a prediction was made on another statistic than the median."""
    stat = prediction.get("statistic")
    return (f" (gap % against the measured {stat}, the statistic it was fitted on)"
            if stat and stat != "latency_median_ms" else "")


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "no constraint"}[passed]


def _row(b: BackendResult) -> tuple[str, ...]:
    if b.status != "ok":
        return (b.backend, b.info.get("engine", "-"), "-", "-", _fmt(b.predicted_ms), "-",
                b.status)
    return (b.backend, str(b.info.get("engine", "")), _fmt(b.latency_ms), _fmt(b.fps),
            _fmt(b.predicted_ms) if b.predicted_ms is not None else NO_PREDICTION,
            "-" if b.gap_pct is None else f"{b.gap_pct:+.1f}", _verdict(b.passed))
