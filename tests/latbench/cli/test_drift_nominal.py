"""--drift-from: tables measured in separate runs share one nominal reference time."""

import argparse

from latbench.cli.measuring import nominal_reference_ms, set_drift_nominal
from latbench.tables import LATENCY, TableWriter
from latbench.timing import CpuTimer, TimingConfig


def test_nominal_is_the_median_reference_of_the_table(tmp_path):
    path = tmp_path / "ops.csv"
    from latbench.spaces import get_space

    writer = TableWriter(path, LATENCY, {})
    specs = get_space("nasbench201").ops("small")[:4]
    for spec, ref in zip(specs, [0.2, 0.3, 0.25, None]):
        writer.append({"key": spec.key, "kind": spec.kind, "status": "ok", "source": "measured",
                       "latency_median_ms": 1.0, "latency_min_ms": 1.0, "reference_ms": ref})
    assert nominal_reference_ms(path) == 0.25
    assert nominal_reference_ms(tmp_path / "missing.csv") is None

    timer = CpuTimer(TimingConfig(rounds=2, reference=True), threads=1)
    set_drift_nominal(timer, argparse.Namespace(drift_from=path), tmp_path / "nets.csv")
    assert timer.reference_nominal_ms == 0.25
