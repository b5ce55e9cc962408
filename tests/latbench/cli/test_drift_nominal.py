"""--drift-from: tables measured in separate runs share one nominal reference time."""

import argparse

from latbench.cli.measuring import nominal_reference_ms, set_drift_nominal
from latbench.tables import LATENCY, TableWriter
from latbench.timing import CpuTimer, TimingConfig


def test_nominal_is_the_median_reference_of_the_table(tmp_path):
    path = tmp_path / "ops.csv"
    writer = TableWriter(path, LATENCY, {})
    for key, ref in [("a", 0.2), ("b", 0.3), ("c", 0.25), ("d", None)]:
        writer.append({"key": key, "status": "ok", "reference_ms": ref})
    assert nominal_reference_ms(path) == 0.25
    assert nominal_reference_ms(tmp_path / "missing.csv") is None

    timer = CpuTimer(TimingConfig(rounds=2, reference=True), threads=1)
    set_drift_nominal(timer, argparse.Namespace(drift_from=path), tmp_path / "nets.csv")
    assert timer.reference_nominal_ms == 0.25
