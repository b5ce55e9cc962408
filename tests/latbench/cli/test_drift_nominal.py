"""--drift-from: tables measured in separate runs share one nominal reference time."""

import argparse

import pytest

from latbench.errors import TableError
from latbench.opspec import OpSpec
from latbench.cli.measuring import nominal_reference_ms, set_drift_nominal
from latbench.tables import LATENCY, TableWriter
from latbench.timing import CpuTimer, TimingConfig


def test_nominal_is_the_median_reference_of_the_table(tmp_path):
    path = tmp_path / "ops.csv"
    writer = TableWriter(path, LATENCY, {})
    for k, ref in [(1, 0.2), (2, 0.3), (3, 0.25), (5, None)]:
        key = OpSpec.make("conv", (1, 8, 8, 8), kernel=k).key
        writer.append({"key": key, "status": "ok", "source": "measured", "latency_median_ms": 1.0,
                       "latency_min_ms": 0.9, "reference_ms": ref})
    assert nominal_reference_ms(path) == 0.25
    assert nominal_reference_ms(tmp_path / "missing.csv") is None

    timer = CpuTimer(TimingConfig(rounds=2, reference=True), threads=1)
    set_drift_nominal(timer, argparse.Namespace(drift_from=path), tmp_path / "nets.csv")
    assert timer.reference_nominal_ms == 0.25
    with pytest.raises(TableError, match="--drift-from"):
        set_drift_nominal(timer, argparse.Namespace(drift_from=tmp_path / "nope.csv"), path)
