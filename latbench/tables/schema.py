"""Table schemas: the documented columns (units in their names) of the lookup tables, each a
CSV file plus a JSON side-car ``<table>.meta.json`` (schema, columns, fingerprint, protocol;
docs/formats.md)."""

from __future__ import annotations

from dataclasses import dataclass

OP_COLUMNS: dict[str, tuple[str, str]] = {
    "key": ("str", "OpSpec text key kind|params|shape|dtype|mode (the primary key)"),
    "kind": ("str", "op kind (latbench.ops registry name)"),
    "op_params": ("str", "the op's hyper-parameters as a JSON object"),
    "input_shape": ("str", "input shape, 'x'-separated (N x C x ...)"),
    "dtype": ("str", "float32 | float16 | bfloat16"),
    "mode": ("str", "infer | train"),
    "status": ("str", "ok | error | oom: error rows keep the error and carry no statistics"),
    "error": ("str", "the error message of a failed op (empty when ok)"),
    "source": ("str", "measured | estimated: an estimate is never called a measurement"),
    "protocol_id": (
        "str",
        "hash of the measuring protocol (timer, budgets, threads); "
        "a re-run skips rows of the same protocol",
    ),
    "flops": ("float", "forward FLOPs counted by torch.utils.flop_counter (matmul/conv)"),
    "n_params": ("float", "parameter count"),
    "bytes_read": ("float", "bytes of inputs and parameters"),
    "bytes_written": ("float", "bytes of outputs"),
    "measured_at": ("str", "UTC time the row was written (ISO 8601)"),
}

LATENCY_STAT_COLUMNS: dict[str, tuple[str, str]] = {
    "latency_median_ms": ("float", "median per-call latency, milliseconds"),
    "latency_mean_ms": ("float", "mean per-call latency, milliseconds"),
    "latency_std_ms": ("float", "sample standard deviation, milliseconds"),
    "latency_iqr_ms": ("float", "inter-quartile range, milliseconds"),
    "latency_p90_ms": ("float", "90th percentile, milliseconds"),
    "latency_p99_ms": ("float", "99th percentile, milliseconds"),
    "latency_min_ms": ("float", "fastest sample, milliseconds"),
    "latency_ci95_low_ms": ("float", "lower end of the median's 95% CI, milliseconds"),
    "latency_ci95_high_ms": ("float", "upper end of the median's 95% CI, milliseconds"),
    "n_samples": ("float", "samples kept"),
    "calls_per_sample": ("float", "calls timed back to back per sample"),
    "timer": (
        "str",
        "cpu-thread_time_ns | cpu-perf_counter_ns | cuda-event | "
        "cuda-event+graph (the clock: docs/measurement-protocol.md)",
    ),
    "stop_reason": ("str", "converged | budget | max_samples | rounds=N (interleaved)"),
    "warnings": ("str", "measurement warnings (high spread, throttling), '; '-separated"),
}

DRIFT_COLUMNS: dict[str, tuple[str, str]] = {
    "reference_ms": (
        "float",
        "fastest sample of the timer's fixed drift reference (a small "
        "network), measured in the same interleaved rounds as this row "
        "(empty: no reference)",
    ),
    "drift": (
        "float",
        "reference_ms / the run's nominal reference time: the whole machine's "
        "slow-down when this row was measured (1.05 = 5 % slower)",
    ),
    "latency_min_corrected_ms": ("float", "latency_min_ms / drift, milliseconds"),
    "latency_median_corrected_ms": ("float", "latency_median_ms / drift, milliseconds"),
}
"""Drift correction (latbench.timing.measure_each): appended last (``TableSchema.added``)."""


@dataclass(frozen=True)
class TableSchema:
    """A named, versioned list of documented columns."""

    name: str
    version: int
    columns: dict[str, tuple[str, str]]
    added: tuple[str, ...] = ()
    """Trailing columns that tables of an older release may lack (read as empty)."""

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def numeric(self) -> list[str]:
        return [c for c, (kind, _) in self.columns.items() if kind == "float"]

    def doc(self) -> dict[str, str]:
        return {c: f"{kind}: {text}" for c, (kind, text) in self.columns.items()}


LATENCY = TableSchema(
    "latbench.latency",
    1,
    {**OP_COLUMNS, **LATENCY_STAT_COLUMNS, **DRIFT_COLUMNS},
    added=tuple(DRIFT_COLUMNS),
)

# Whole networks measured as a whole (latbench.netprofile, `latbench measure-nets`).
NETWORK_COLUMNS: dict[str, tuple[str, str]] = {
    "arch_id": ("str", "sha1 of Architecture.canonical_json: no node names nor edge order"),
    "repeat": ("float", "1-based pass over the networks (repeat 2 re-measures, a noise floor)"),
    "space": ("str", "search space the architecture belongs to"),
    "size": ("str", "small | paper: the shapes the sampler used"),
    "name": ("str", "architecture name (may be empty)"),
    "genotype": ("str", "the space's own text form of the architecture"),
    "arch_json": ("str", "the whole architecture (Architecture.from_json rebuilds it)"),
    "n_ops": ("float", "number of edges (ops) the network runs"),
    "n_params": ("float", "parameter count of the built network"),
    "input_shape": ("str", "network input shape, 'x'-separated"),
    "dtype": ("str", "float32 | float16 | bfloat16"),
    "mode": ("str", "infer (forward, no autograd) | train (forward + backward)"),
    "status": ("str", "ok | error | oom: error rows keep the error and carry no statistics"),
    "error": ("str", "the error message of a failed network (empty when ok)"),
    "source": ("str", "measured (whole networks are never estimated in this table)"),
    "protocol_id": (
        "str",
        "hash of the measuring protocol; a re-run skips rows of the same protocol and repeat",
    ),
    "measured_at": ("str", "UTC time the row was written (ISO 8601)"),
}

NETWORKS = TableSchema(
    "latbench.networks",
    1,
    {**NETWORK_COLUMNS, **LATENCY_STAT_COLUMNS, **DRIFT_COLUMNS},
    added=tuple(DRIFT_COLUMNS),
)

# Training memory, measured or estimated (latbench.memory, `latbench memory`).
MEMORY_COLUMNS: dict[str, tuple[str, str]] = {
    "subject": ("str", "op | arch: what the row measured"),
    "arch_id": ("str", "sha1 of Architecture.canonical_json (empty for op rows)"),
    "space": ("str", "search space of an architecture (empty for op rows)"),
    "arch_json": ("str", "the whole architecture (Architecture.from_json rebuilds it)"),
    "optimizer": ("str", "sgd | adam | adamw"),
    "batch": ("float", "batch size of the training steps"),
    "steps": ("float", "training steps run (forward, backward, optimizer step)"),
    "config_json": ("str", "the TrainConfig as JSON"),
    "peak_allocated_mib": ("float", "GPU: torch.cuda.max_memory_allocated over the steps, MiB"),
    "peak_reserved_mib": ("float", "GPU: torch.cuda.max_memory_reserved over the steps, MiB"),
    "nvml_process_mib": ("float", "GPU: max NVML per-process used memory (nvidia-smi), MiB"),
    "nvml_device_mib": ("float", "GPU: max NVML device used memory (all processes), MiB"),
    "context_mib": (
        "float",
        "GPU: NVML process memory right after CUDA init (device-level "
        "delta across the init when NVML cannot see this pid), MiB",
    ),
    "infer_peak_allocated_mib": ("float", "GPU: allocator peak of one no-grad forward, MiB"),
    "infer_peak_reserved_mib": ("float", "GPU: reserved peak of one no-grad forward, MiB"),
    "rss_baseline_mib": ("float", "CPU: VmRSS before the steps (after a warm-up step), MiB"),
    "rss_peak_mib": ("float", "CPU: VmHWM over the steps, MiB"),
    "rss_growth_mib": ("float", "CPU: VmHWM - baseline: the steps' peak memory, MiB"),
    "traced_setup_mib": ("float", "trace: bytes live before the steps (params, input), MiB"),
    "traced_peak_live_mib": ("float", "trace: peak of live tensor bytes (+ workspaces), MiB"),
    "sim_peak_allocated_mib": ("float", "trace through the caching-allocator model, MiB"),
    "sim_peak_reserved_mib": ("float", "trace through the caching-allocator model, MiB"),
    "peak_phase": ("str", "phase of the traced peak, e.g. step2/backward"),
    "fwd_kept_mib": (
        "float",
        "op rows, trace: bytes the op's forward keeps for backward (the "
        "fast screen's per-op term), MiB",
    ),
    "param_mib": ("float", "op rows: parameter bytes, MiB"),
    "parts": ("str", "estimates: which terms were measured and which modelled"),
    "nvml_device_delta_mib": (
        "float",
        "GPU: max NVML device used memory minus the device's "
        "usage before CUDA init: this process's memory when "
        "NVML cannot see its pid (containers), MiB",
    ),
}
MEMORY = TableSchema("latbench.memory", 1, {**OP_COLUMNS, **MEMORY_COLUMNS})

SCHEMAS: dict[str, TableSchema] = {s.name: s for s in (LATENCY, NETWORKS, MEMORY)}
