"""The validation report: measured vs predicted per backend, the gap, pass/fail, provenance;
``to_json`` for machines (every number with its environment), ``to_markdown`` for people."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from latbench.statistics import DEFAULT_STATISTIC, is_corrected, raw_statistic

NO_PREDICTION = "no prediction"

PREDICTOR_BACKEND = "torch"
"""The backend a predictor file's numbers come from when it does not say: latbench's tables
(``profile``, ``measure-nets``) are measured in PyTorch eager mode."""

STAT_LABELS = {
    "latency_median_ms": "median ms",
    "latency_min_ms": "fastest ms",
    "latency_mean_ms": "mean ms",
    "latency_p90_ms": "p90 ms",
    "latency_min_corrected_ms": "fastest ms ÷ drift",
    "latency_median_corrected_ms": "median ms ÷ drift",
}
"""Column label of each latency statistic a gap can use."""

VERDICT_STATISTIC = "latency_median_ms"
"""The statistic the budget verdict judges, latency and FPS alike (``check_budget``)."""

VERDICT_BASIS = (
    "budget verdict and FPS judged on the median latency (latency_median_ms; "
    "FPS = batch / median): the call a deployment typically sees"
)


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
    warnings: list[str] = field(default_factory=list)
    gap_note: str = ""
    gap_statistic: str = ""
    """The statistic this backend's gap compares when not the report's (an untrusted drift
    correction: the raw one); "" for the report's."""

    @property
    def latency_ms(self) -> float | None:
        return self.stats.get(VERDICT_STATISTIC)

    @property
    def fps(self) -> float | None:
        """Throughput from the verdict's statistic (``fps`` in reports written before)."""
        stat = self.budget.get("statistic", VERDICT_STATISTIC)
        return self.budget.get(f"fps_from_{stat}", self.budget.get("fps"))

    @property
    def passed(self) -> bool | None:
        return self.budget.get("passed")

    @property
    def busy(self) -> bool:
        """The measurement says the machine was busy: its numbers include other work."""
        return any("busy" in w for w in self.warnings)  # ``busy_warnings``


def gap_note(backend: str, info: dict[str, Any], prediction: dict[str, Any]) -> str:
    """Empty when the gap compares like with like; else what the predictor measured instead."""
    source = prediction.get("backend") or PREDICTOR_BACKEND
    if backend == source and info.get("engine", f"{source}-eager") == f"{source}-eager":
        return ""
    return (
        f"gap against a {source}-eager predictor: {backend} ({info.get('engine', backend)}) is "
        "another engine, so the gap includes the engine's speed-up, not only prediction error"
    )


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
    liveness: dict[str, Any] | None = None
    backends: list[BackendResult] = field(default_factory=list)

    @property
    def passed(self) -> bool | None:
        """False if any measured backend breaks a constraint; None if none was checked."""
        verdicts = [b.passed for b in self._measured if b.passed is not None]
        return all(verdicts) if verdicts else None

    @property
    def busy(self) -> bool:
        return any(b.busy for b in self._measured)

    @property
    def _measured(self) -> list[BackendResult]:
        return [b for b in self.backends if b.status == "ok"]

    @property
    def clocks(self) -> list[str]:
        """The clocks the measured backends were timed on (``RunInfo.timer``), in order."""
        return list(dict.fromkeys(str(b.info.get("timer")) for b in self._measured))

    @property
    def clock_line(self) -> str:
        """Which clock timed the report's backends, or that they differ (then not comparable)."""
        clocks = self.clocks
        if len(clocks) <= 1:
            return f"clock: {clocks[0] if clocks else '-'} (every backend)"
        pairs = ", ".join(f"{b.backend} {b.info.get('timer')}" for b in self._measured)
        return f"clocks differ: {pairs}; their latencies are not comparable with each other"

    @property
    def statistic(self) -> str:
        """The measured statistic the gap compares with the prediction (``gap_statistic``)."""
        return gap_statistic(self.prediction)

    @property
    def verdict(self) -> str:
        """PASS / FAIL on the median latency with the limits it judged, or no constraint;
        qualified when the machine was busy or the output comparison proves nothing."""
        notes = ["machine busy: timings unreliable"] if self.busy else []
        if self.liveness is not None and not self.liveness.get("live"):
            notes.append("outputs not checked: comparison proves nothing")
        if self.passed is None:
            return _verdict(None) + (f" ({'; '.join(notes)})" if notes else "")
        limits = []
        if self.budget_ms is not None:
            limits.append(f"{VERDICT_STATISTIC} <= {self.budget_ms:g} ms")
        if self.min_fps is not None:
            limits.append(f"FPS >= {self.min_fps:g}")
        return f"{_verdict(self.passed)} on the median latency ({'; '.join(limits + notes)})"

    def columns(self) -> tuple[str, ...]:
        """The table's header (see ``rows``)."""
        gap = () if self.statistic == VERDICT_STATISTIC else (_label(self.statistic),)
        median = STAT_LABELS[VERDICT_STATISTIC]
        return ("backend", "engine", median, "FPS@median", *gap, "predicted ms", "gap %", "verdict")

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "passed": self.passed,
            "busy": self.busy,
            "verdict": self.verdict,
            "clocks": self.clocks,
            "verdict_statistic": VERDICT_STATISTIC,
            "gap_statistic": self.statistic,
            "gap_basis": gap_basis(self.prediction).strip(" ()"),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        names = ("arch", "device", "prediction", "budget_ms", "min_fps", "timing", "onnx")
        backends = [BackendResult(**b) for b in data.get("backends", [])]
        return cls(**{k: data[k] for k in names}, backends=backends)

    def rows(self) -> list[tuple[str, ...]]:
        """One row per backend (``columns()``): backend, engine, the measured statistic the gap
        uses, fps, predicted, gap (``*``: against another backend's predictor), verdict."""
        return [_row(b, self.statistic) for b in self.backends]

    def notes(self) -> list[str]:
        """Lines under the table: liveness, errors, warnings and gap notes per backend."""
        out = [VERDICT_BASIS] if self.passed is not None else []
        if self.prediction.get("fit_note"):
            out.append(f"prediction: {self.prediction['fit_note']}")
        if len(self.clocks) > 1:
            out.append(self.clock_line)
        if self.liveness and not self.liveness.get("live"):
            out.append(self.liveness.get("note", "output comparison proves nothing"))
        elif self.liveness and self.liveness.get("init") != "default":
            out.append(
                "outputs compared with variance-preserving weights: with PyTorch's "
                "default init the output barely depends on the input (relative spread "
                f"{self.liveness.get('default_spread', 0):.2g})"
            )
        for b in self.backends:
            texts = [b.error] if b.error else []
            texts += b.warnings + ([f"* {b.gap_note}"] if b.gap_note else [])
            out += [f"{b.backend}: {text}" for text in texts]
        return out

    def to_markdown(self) -> str:
        arch, onnx = self.arch, self.onnx
        lines = [
            f"# latbench validate: {arch.get('name') or arch.get('space')}",
            "",
            f"- architecture: {arch.get('space')} {arch.get('genotype', '')} "
            f"({arch.get('n_edges')} edges, input {arch.get('input_shape')})",
            f"- device: {self.device.get('name')} ({self.device.get('slug')})",
            f"- {self.clock_line}",
            f"- budget: latency <= {_fmt(self.budget_ms)} ms, throughput >= "
            f"{_fmt(self.min_fps)} FPS",
            f"- prediction: {self.prediction.get('note') or self.prediction.get('source')}"
            f"{gap_basis(self.prediction)}",
            f"- table: {_label(self.statistic)} is the measured {self.statistic}, the statistic "
            f"the gap uses; {VERDICT_BASIS}",
            f"- ONNX: {onnx.get('path')} (opset {onnx.get('opset')})"
            if onnx
            else "- ONNX: not exported",
            "",
            "| " + " | ".join(self.columns()) + " |",
            "|" + "---|" * len(self.columns()),
            *("| " + " | ".join(r) + " |" for r in self.rows()),
        ]
        if self.notes():
            lines += ["", *(f"- {n}" for n in self.notes())]
        return "\n".join([*lines, "", f"overall: {self.verdict}", ""])


def gap_statistic(prediction: dict) -> str:
    """The measured statistic the gap compares with ``prediction`` (fitted on its
    ``statistic``): the same one, as ``latbench evaluate`` does; for a drift-corrected one
    without this machine's drift (``latbench.deploy.validate.machine_drift``), the raw one."""
    fitted = prediction.get("statistic") or DEFAULT_STATISTIC
    drift = "drift" in (prediction.get("drift") or {})
    return fitted if drift or not is_corrected(fitted) else raw_statistic(fitted)


def gap_basis(prediction: dict) -> str:
    """What the gap compares, when the prediction is not of the median ("" when it is)."""
    fitted = prediction.get("statistic") or DEFAULT_STATISTIC
    drift = prediction.get("drift") or {}
    measured = gap_statistic(prediction)
    if is_corrected(fitted) and "drift" in drift:
        return (
            f" (gap % against the measured {measured}, the statistic it was fitted on: "
            f"this machine's drift {drift['drift']:.3f} = the drift reference timed here, "
            f"{drift['reference_ms']:.4g} ms, over the {drift['nominal_ms']:.4g} ms "
            "nominal of the predictor's tables)"
        )
    if is_corrected(fitted):
        why = drift.get("note") or "no drift reference timed"
        return (
            f" (gap % against the measured {measured}: the predictor was fitted on "
            f"{fitted}, drift-corrected to its tables' machine speed; {why}, so drift is "
            "taken as 1 and the gap includes any slow-down of this machine since)"
        )
    if measured == DEFAULT_STATISTIC:
        return ""
    return f" (gap % against the measured {measured}, the statistic it was fitted on)"


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _label(statistic: str) -> str:
    return STAT_LABELS.get(statistic, statistic)


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "no constraint"}[passed]


def _row(b: BackendResult, statistic: str) -> tuple[str, ...]:
    extra = statistic != VERDICT_STATISTIC
    if b.status != "ok":
        dashes = ("-",) * (2 + extra)
        return (b.backend, b.info.get("engine", "-"), *dashes, _fmt(b.predicted_ms), "-", b.status)
    raw = " (raw)" if b.gap_statistic and b.gap_statistic != statistic else ""
    gap = "-" if b.gap_pct is None else f"{b.gap_pct:+.1f}{'*' if b.gap_note else ''}{raw}"
    return (
        b.backend,
        str(b.info.get("engine", "")),
        _fmt(b.latency_ms),
        _fmt(b.fps),
        *(_fmt(b.stats.get(statistic)),) * extra,
        NO_PREDICTION if b.predicted_ms is None else _fmt(b.predicted_ms),
        gap,
        _verdict(b.passed) + (" (busy)" if b.busy else ""),
    )
