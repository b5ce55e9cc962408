"""``validate``: export one architecture, run it on every requested backend, and compare the
measured latency and throughput with the prediction and the search's budget. Every backend's
outputs are checked against PyTorch's (a wrong export is a mismatch, not a fast number).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latbench.archs import Architecture
from latbench.archs.registry import architecture_from_ref
from latbench.deploy.export import DEFAULT_OPSET, ExportedModel, export_onnx, read_onnx
from latbench.deploy.liveness import Liveness, ensure_live, input_reaches_output
from latbench.deploy.protocols import check_budget
from latbench.deploy.report import (
    NO_PREDICTION,
    PREDICTOR_BACKEND,
    BackendResult,
    ValidationReport,
    gap_note,
    gap_pct,
)
from latbench.deploy.runners import BACKENDS, Runner, import_onnxruntime, make_runner
from latbench.device import fingerprint
from latbench.errors import (
    LatbenchError,
    MeasurementError,
    MissingDependencyError,
    UnknownNameError,
)
from latbench.paths import file_in, output_dir
from latbench.spaces import size_note
from latbench.statistics import fitted_statistic, is_corrected, raw_statistic
from latbench.timed import REFERENCE_ID, is_oom, reference_callable
from latbench.timing import TimingConfig, min_sample_ms_for
from latbench.timing.cpu import CpuTimer

OUTPUT_TOL = {"fp32": 1e-3, "tf32": 1e-2, "fp16": 5e-2}
"""Max |backend - torch| relative to max |torch output| for outputs to count as matching.
``tf32``: fp32 on a CUDA GPU of compute capability >= 8.0, whose convolutions and matmuls run
in TF32 by default (torch's ``cudnn.allow_tf32``, TensorRT's ``BuilderFlag.TF32``, ONNX
Runtime's cuDNN frontend): 10 mantissa bits, not 23."""

BUSY_LOAD_PER_CORE = 1.0
"""1-minute load average per core above which validate says the machine was busy."""

ONNX_BACKENDS = ("ort", "ort-trt", "trt")
"""The backends an ONNX file runs on (``torch`` needs the PyTorch model)."""

DRIFT_CONFIG = TimingConfig(warmup_ms=30.0, budget_ms=300.0, min_sample_ms=1.0)
"""How validate times the drift reference: one round of the tables' reference timing."""
DRIFT_MOVED = 0.10  # the reference moving more than this during a backend's run is reported
DRIFT_TRUSTED = 0.25
"""A drift correction beyond ±25 % is not shown as the gap: dividing by the drift assumes a
uniformly slower core, not the cache and memory contention of a loaded machine."""


@dataclass(frozen=True)
class ValidateOptions:
    """How to run the backends (device, precision, threads, CUDA graphs, transfers, caches)."""

    device: str = "cpu"
    precision: str = "fp32"
    threads: int | None = None
    cuda_graph: bool = False
    transfers: bool = False
    opset: int = DEFAULT_OPSET
    out_dir: Path = Path("validate-out")
    skip_unavailable: bool = False


resolve_architecture = architecture_from_ref
"""``text`` is a path to an ``Architecture.to_json()`` file, or ``SPACE:SEED[:SIZE]`` to sample
one (``latbench.archs.registry.architecture_from_ref``)."""

PredictorLoader = Callable[[Path, "str | None"], Any]
"""``load(path, device_slug) -> network predictor`` for a ``--predictor`` file (the CLI passes
``latbench.cli.validate.load_network_predictor``: measuring layers never import predictors)."""


def predict_latency(
    arch: Architecture,
    predictor: Any,
    device_slug: str | None = None,
    load: PredictorLoader | None = None,
) -> dict[str, Any]:
    """The network predictor's latency for ``arch``, or ``note: "no prediction"``.

    ``predictor``: None, a fitted network predictor (``predict([arch]) -> ms``), or a file
    path read with ``load``. Raises ``LatbenchError`` for a file without ``load`` and for a
    prediction that is not a finite number > 0.
    """
    if predictor is None:
        return {"predicted_ms": None, "source": None, "note": NO_PREDICTION}
    if not isinstance(predictor, (str, Path)):
        source, model = type(predictor).__name__, predictor
    elif load is None:
        raise LatbenchError(
            f"{predictor}: a predictor file needs a loader (pass load_predictor="
            "latbench.cli.validate.load_network_predictor) or pass the loaded predictor"
        )
    else:
        source, model = str(predictor), load(Path(predictor), device_slug)
    value = float(np.asarray(model.predict([arch]))[0])
    if not (np.isfinite(value) and value > 0):
        raise LatbenchError(
            f"{source}: predicts {value!r} ms for {arch.name or arch.space}; a latency is a "
            "finite number > 0 (is the architecture far outside what it was fitted on?)"
        )
    info = getattr(model, "info_", {})
    size = str(arch.meta.get("size") or "")
    return {
        "predicted_ms": value,
        "source": source,
        "fit_note": size_note(info.get("sizes") or {}, arch.space, size, source),
        "unit": getattr(model, "unit", "ms"),
        "fitted_on": info.get("device"),
        "statistic": fitted_statistic(info),  # the report's gap_statistic is measured
        "drift_reference": info.get("drift_reference") or None,
        "backend": info.get("backend") or PREDICTOR_BACKEND,
        "note": "",
    }


def machine_drift(prediction: dict[str, Any], opts: ValidateOptions) -> dict[str, Any] | None:
    """For a prediction of a drift-corrected statistic, this machine's drift against the
    nominal reference time of the predictor's tables (the drift reference ``REFERENCE_ID``
    timed here, as ``latbench.timing.measure_each`` does for the tables).

    Returns ``{"reference_ms", "nominal_ms", "drift"}``, or ``{"note": why not}`` (no nominal
    in the file, another reference, a GPU run); None for a raw statistic."""
    if not is_corrected(prediction.get("statistic") or ""):
        return None
    ref = prediction.get("drift_reference") or {}
    if not ref.get("nominal_ms"):
        return {"note": "the predictor file does not record its tables' nominal reference time"}
    if ref.get("reference") != REFERENCE_ID:
        return {"note": f"its tables timed another drift reference ({ref.get('reference')!r})"}
    if not opts.device.startswith("cpu"):
        return {"note": "validate times the drift reference on the CPU only"}
    ref_ms, nominal_ms = drift_reference_ms(opts.threads), float(ref["nominal_ms"])
    return {"reference_ms": ref_ms, "nominal_ms": nominal_ms, "drift": ref_ms / nominal_ms}


def untrusted_drift(drift: float | None, moved_notes: Sequence[str]) -> str:
    """Why a backend's drift correction cannot be trusted ("" when it can): the correction is
    beyond ``DRIFT_TRUSTED``, or the reference moved more than ``DRIFT_MOVED`` during the run."""
    if drift is not None and abs(drift - 1.0) > DRIFT_TRUSTED:
        return (
            f"this run's drift {drift:.3f} (the reference before and after it) is a "
            f"correction beyond ±{DRIFT_TRUSTED:.0%}, more than "
            "dividing by it can be trusted for (a loaded machine slows networks unevenly)"
        )
    return "the drift reference moved during the run" if moved_notes else ""


def drift_reference_ms(threads: int | None) -> float:
    """The drift reference's fastest call on this CPU now, ms (``DRIFT_CONFIG``)."""
    return min(CpuTimer(DRIFT_CONFIG, threads=threads).measure(reference_callable()).samples_ms)


@dataclass
class DriftProbe:
    """The drift reference timed between backends: a backend's run is corrected by the mean of
    the reference's time before and after it (as the tables' reference is timed between items)."""

    nominal_ms: float
    threads: int | None
    last_ms: float

    def around_run(self) -> tuple[float, list[str]]:
        """(the run's reference ms, notes) after a run: a move beyond ``DRIFT_MOVED`` is said;
        this run's "after" is the next one's "before"."""
        before, after = self.last_ms, drift_reference_ms(self.threads)
        self.last_ms = after
        moved = after / before - 1.0
        notes = []
        if abs(moved) > DRIFT_MOVED:
            notes.append(
                f"the drift reference moved {moved:+.0%} ({before:.3g} -> {after:.3g} ms) "
                "during this run: its drift-corrected statistic is uncertain"
            )
        return (before + after) / 2.0, notes


def timing_config(device: str, measure_ms: float = 2000.0) -> TimingConfig:
    """The op profiler's defaults: blocks of >= 0.5 ms on the CPU, single calls on a GPU."""
    return TimingConfig(
        warmup_ms=min(200.0, measure_ms / 5),
        budget_ms=measure_ms,
        min_sample_ms=min_sample_ms_for(device),
    )


def busy_warnings() -> list[str]:
    """A loaded machine, seen from the 1-minute load average before measuring (Unix only)."""
    try:
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
    except (AttributeError, OSError):
        return []
    if load <= BUSY_LOAD_PER_CORE * cores:
        return []
    return [
        f"machine busy: load average {load:.1f} on {cores} cores; the timings include "
        "other processes' work (compare on an idle machine)"
    ]


def output_tolerance(precision: str, device: str) -> float:
    """``OUTPUT_TOL`` of ``precision`` on ``device``: 'tf32' for fp32 on Ampere and newer."""
    dev = torch.device(device)
    if precision == "fp32" and dev.type == "cuda" and torch.cuda.is_available():
        if torch.cuda.get_device_capability(dev)[0] >= 8:
            return OUTPUT_TOL["tf32"]
    return OUTPUT_TOL[precision]


def _oom_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200]


def _measure(
    runner: Runner,
    reference: list[np.ndarray],
    config: TimingConfig,
    report: ValidationReport,
    tolerance: float,
    probe: DriftProbe | None,
    load: list[str],
) -> BackendResult:
    """One backend timed, checked against ``reference``, the prediction and the budget."""
    backend, info = runner.info.backend, asdict(runner.info)
    notes: list[str] = []
    try:
        m = runner.measure(config)
        if probe is not None:  # the corrected statistics, as the predictor's tables have them
            ref_ms, notes = probe.around_run()
            m = replace(m, reference_ms=ref_ms, drift=ref_ms / probe.nominal_ms)
        outs = runner.outputs()
    except LatbenchError as exc:
        return BackendResult(backend, "failed", info, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - an allocator's failure is this backend's result
        if not is_oom(exc):
            raise
        return BackendResult(backend, "failed", info, error=f"out of memory: {_oom_line(exc)}")
    finally:
        runner.close()
    diff = max(float(np.max(np.abs(o.reshape(r.shape) - r))) for o, r in zip(outs, reference))
    scale = max(float(np.max(np.abs(r))) for r in reference) or 1.0
    match = diff <= tolerance * scale
    predicted, stats, statistic = report.prediction.get("predicted_ms"), m.stats(), report.statistic
    why = untrusted_drift(m.drift, notes) if probe is not None and predicted is not None else ""
    if why:
        corrected, corrected_ms = gap_pct(stats[statistic], predicted), stats[statistic]
        statistic = raw_statistic(statistic)
        notes.append(
            f"gap against the raw {statistic} ({stats[statistic]:.4g} ms), not the "
            f"drift-corrected one ({corrected_ms:.4g} ms, {corrected:+.1f} %): {why}"
        )
    return BackendResult(
        backend,
        "ok",
        info,
        stats,
        check_budget(m, runner.info.batch, report.budget_ms, report.min_fps).to_dict(),
        predicted,
        gap_pct(stats[statistic], predicted),
        diff,
        match,
        ""
        if match
        else f"outputs differ from torch by {diff:.3g} (max abs; allowed "
        f"{tolerance:g} of the largest output, {scale:.3g})",
        list(m.warnings) + notes + load,
        gap_note(backend, info, report.prediction) if predicted is not None else "",
        gap_statistic=statistic if why else "",
    )


def _measure_backends(
    report: ValidationReport,
    backends: Sequence[str],
    module: torch.nn.Module | None,
    exported: ExportedModel,
    inputs: tuple[torch.Tensor, ...],
    reference: list[np.ndarray],
    config: TimingConfig,
    live: Liveness,
    opts: ValidateOptions,
    probe: DriftProbe | None = None,
) -> ValidationReport:
    """Every runner made first (a missing package fails before any measuring), then measured."""
    report.onnx, report.liveness = asdict(exported), asdict(live)  # JSON writes paths as str
    runners: list[Runner | BackendResult] = []
    options = {k: getattr(opts, k) for k in ("device", "precision", "threads", "cuda_graph")}
    options |= {"transfers": opts.transfers, "cache_dir": output_dir(opts.out_dir / "cache")}
    for backend in backends:
        try:
            runners.append(
                make_runner(backend, module=module, exported=exported, inputs=inputs, **options)
            )
        except MissingDependencyError as exc:
            if not opts.skip_unavailable:
                raise
            runners.append(BackendResult(backend, "unavailable", error=str(exc)))
    load, tolerance = busy_warnings(), output_tolerance(opts.precision, opts.device)
    for r in runners:
        if not isinstance(r, BackendResult):
            r = _measure(r, reference, config, report, tolerance, probe, load)
        report.backends.append(r)
    return report


def validate(
    arch: Architecture,
    backends: Sequence[str] = ("torch", "ort"),
    *,
    budget_ms: float | None = None,
    min_fps: float | None = None,
    predictor: Any = None,
    options: ValidateOptions | None = None,
    config: TimingConfig | None = None,
    load_predictor: PredictorLoader | None = None,
) -> ValidationReport:
    """Export ``arch``, measure it on ``backends``, and report against prediction and budget.

    ``predictor``: a fitted network predictor, or a file read with ``load_predictor``. Raises
    ``UnknownNameError`` for an unknown backend, ``MissingDependencyError`` for a backend whose
    package is missing (unless ``skip_unavailable``) and ``MeasurementError`` when the CPU
    reference run does not fit in memory.
    """
    opts = options or ValidateOptions()
    for b in backends:
        if b not in BACKENDS:
            raise UnknownNameError("backend", b, BACKENDS)
    config = config or timing_config(opts.device)
    device = fingerprint(opts.device, threads=opts.threads)
    prediction = predict_latency(arch, predictor, device.get("slug"), load_predictor)
    drift = machine_drift(prediction, opts)
    probe = None
    if drift is not None:
        prediction["drift"] = drift  # as timed before the backends
        if "drift" in drift:
            probe = DriftProbe(drift["nominal_ms"], opts.threads, drift["reference_ms"])
    name = arch.name or arch.space
    try:  # the module (made live where an init can), its inputs and torch's outputs
        torch.manual_seed(0)
        module, inputs = arch.build("cpu").eval(), arch.example_inputs("cpu")
        live = ensure_live(module, inputs[0], output_tolerance(opts.precision, opts.device))
        with torch.inference_mode():
            ref = module(*inputs)
        reference = [t.float().numpy() for t in (ref if isinstance(ref, tuple | list) else (ref,))]
    except Exception as exc:  # noqa: BLE001 - only an allocator's failure is turned into a line
        if not is_oom(exc):
            raise
        raise MeasurementError(
            f"{name}: building and running it on the CPU (the reference outputs) ran out of "
            f"memory: {_oom_line(exc)}; the architecture is larger than this machine holds"
        ) from None
    if not input_reaches_output(arch):
        live = replace(
            live,
            live=False,
            note="output comparison proves nothing: every input-to-output path crosses "
            "a 'zero' op, so the output cannot depend on the input",
        )
    path = file_in(opts.out_dir, name, ".onnx", arch.space)
    exported = export_onnx(module, path, inputs=inputs, opset=opts.opset)
    summary: dict[str, Any] = {"n_edges": len(arch.edges), "input_shape": list(arch.input_shape)}
    summary |= dict(space=arch.space, name=arch.name, genotype=arch.genotype, json=arch.to_dict())
    report = ValidationReport(summary, device, prediction, budget_ms, min_fps, config.as_dict())
    return _measure_backends(
        report, backends, module, exported, inputs, reference, config, live, opts, probe
    )


def _onnx_reference(exported: ExportedModel, inputs: tuple[torch.Tensor, ...]) -> list[np.ndarray]:
    """ONNX Runtime's outputs on the CPU: what every backend of an ONNX file is compared with."""
    ort = import_onnxruntime()
    session = ort.InferenceSession(str(exported.path), providers=["CPUExecutionProvider"])
    feed = {n: t.numpy() for n, t in zip(exported.input_names, inputs)}
    return [np.asarray(o, dtype=np.float32) for o in session.run(None, feed)]


def validate_onnx(
    path: str | Path,
    backends: Sequence[str] = ("ort",),
    *,
    input_shape: tuple[int, ...] | None = None,
    budget_ms: float | None = None,
    min_fps: float | None = None,
    options: ValidateOptions | None = None,
    config: TimingConfig | None = None,
) -> ValidationReport:
    """Measure an existing ONNX file on ``backends`` (``ONNX_BACKENDS``) against the budget.

    There is no PyTorch model, so no prediction and no torch output: every backend's outputs
    are compared with ONNX Runtime's on the CPU (the liveness record says so). Inputs are
    N(0, 1) (seeded); ``input_shape`` fills dynamic dimensions. Raises ``LatbenchError`` for
    the torch backend or an unreadable file, ``MeasurementError`` for a file ONNX Runtime
    cannot load or run on the CPU, or inputs too large to allocate."""
    opts = options or ValidateOptions()
    bad = [b for b in backends if b not in ONNX_BACKENDS]
    if bad:
        raise LatbenchError(
            f"{path}: backend(s) {', '.join(bad)} need the PyTorch model; an ONNX file runs on "
            f"{', '.join(ONNX_BACKENDS)} (validate the model itself, e.g. timm:NAME, for torch)"
        )
    config = config or timing_config(opts.device)
    exported = read_onnx(path, input_shape)
    gen = torch.Generator().manual_seed(0)
    try:
        inputs = tuple(torch.randn(s, generator=gen) for s in exported.input_shapes)
        reference = _onnx_reference(exported, inputs)
        other = _onnx_reference(
            exported, tuple(torch.randn(t.shape, generator=gen) for t in inputs)
        )
    except Exception as exc:  # noqa: BLE001 - only the allocator's and ORT's become a line
        shapes = ", ".join("x".join(map(str, s)) for s in exported.input_shapes) or "none"
        if is_oom(exc):
            raise MeasurementError(
                f"{path}: inputs of {shapes} and the reference run on the CPU ran out of "
                f"memory: {_oom_line(exc)}"
            ) from None
        if not type(exc).__module__.startswith("onnxruntime"):
            raise
        raise MeasurementError(
            f"{path}: ONNX Runtime cannot load or run it on inputs of {shapes}: {_oom_line(exc)}"
        ) from None
    exported = replace(exported, output_shapes=tuple(r.shape for r in reference))
    scale = max(float(np.max(np.abs(r))) for r in reference) or 1.0
    spread = max(float(np.max(np.abs(a - b))) for a, b in zip(other, reference)) / scale
    live = spread > 10 * output_tolerance(opts.precision, opts.device)
    note = "output comparison proves little: the file's output barely depends on its input"
    shape = list(exported.input_shapes[0]) if exported.input_shapes else []
    summary = dict(space="onnx", name=Path(path).stem, genotype="", n_edges=0, input_shape=shape)
    device = fingerprint(opts.device, threads=opts.threads)
    no_prediction = {"predicted_ms": None, "source": None, "note": NO_PREDICTION}
    report = ValidationReport(
        {**summary, "json": {}}, device, no_prediction, budget_ms, min_fps, config.as_dict()
    )
    liveness = Liveness(spread, spread, "default", live, note)
    return _measure_backends(
        report, backends, None, exported, inputs, reference, config, liveness, opts
    )
