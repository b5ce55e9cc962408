"""Fixtures of the predictor tests: a synthetic device (op latencies from a known formula,
networks from known op costs), so answers can be checked exactly without timing anything."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from latbench.archs import sample_architectures
from latbench.opspec import OpSpec
from latbench.spaces import get_space


def true_ms(spec: OpSpec) -> float:
    """The synthetic device: a fixed overhead plus FLOPs and bytes at fixed rates."""
    f = spec.features()
    return 0.01 + 2e-8 * f["flops"] + 5e-8 * (f["bytes_read"] + f["bytes_written"])


def op_table(specs: list[OpSpec], slug: str = "cpu-test-1t") -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "key": [s.key for s in specs],
            "latency_median_ms": [true_ms(s) for s in specs],
            "latency_min_ms": [0.9 * true_ms(s) for s in specs],
            "status": "ok",
            "source": "measured",
        }
    )
    df.attrs["meta"] = {"fingerprint": {"slug": slug}}
    return df


def network_ms(arch, per_edge_ms: float = 0.02, scale: float = 1.1) -> float:
    """Whole-network truth: ops scaled by ``scale`` plus a launch overhead per edge."""
    return scale * sum(true_ms(op) for op in arch.ops()) + per_edge_ms * len(arch.edges)


@pytest.fixture(scope="session")
def synth() -> SimpleNamespace:
    """The synthetic device's helpers (test modules cannot import each other here)."""
    return SimpleNamespace(true_ms=true_ms, op_table=op_table, network_ms=network_ms)


@pytest.fixture(scope="session")
def nb201_ops() -> list[OpSpec]:
    return get_space("nasbench201").ops("small")


@pytest.fixture(scope="session")
def nb201_archs():
    return sample_architectures("nasbench201", 40, "small", seed=3)
