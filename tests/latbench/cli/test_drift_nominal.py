"""--drift-from: tables measured in separate runs share one nominal reference time."""

import argparse

import pytest

from latbench.cli.measuring import nominal_reference_ms, set_drift_nominal
from latbench.errors import TableError
from latbench.opspec import OpSpec
from latbench.tables import LATENCY, TableWriter
from latbench.timed import DRIFT_REFERENCE, REFERENCE_ID
from latbench.timing import CpuTimer, TimingConfig


def _table(path, reference, **protocol):
    meta = {"protocol": {"reference": reference, **protocol}} if reference is not None else {}
    writer = TableWriter(path, LATENCY, meta)
    for k, ref in [(1, 0.2), (2, 0.3), (3, 0.25), (5, None)]:
        key = OpSpec.make("conv", (1, 8, 8, 8), kernel=k).key
        writer.append(
            {
                "key": key,
                "status": "ok",
                "source": "measured",
                "latency_median_ms": 1.0,
                "latency_min_ms": 0.9,
                "reference_ms": ref,
            }
        )
    return path


def test_nominal_is_the_median_reference_of_the_table(tmp_path):
    path = _table(tmp_path / "ops.csv", REFERENCE_ID)
    assert nominal_reference_ms(path) == 0.25
    with pytest.raises(TableError, match="no such table"):
        nominal_reference_ms(tmp_path / "missing.csv")

    timer = CpuTimer(TimingConfig(rounds=2, reference=DRIFT_REFERENCE), threads=1)
    set_drift_nominal(timer, argparse.Namespace(drift_from=path), tmp_path / "nets.csv")
    assert timer.reference_nominal_ms == 0.25
    with pytest.raises(TableError, match="--drift-from"):
        set_drift_nominal(timer, argparse.Namespace(drift_from=tmp_path / "nope.csv"), path)


@pytest.mark.parametrize("other", [True, "conv-bn-relu-pool 1x16x32x32", None])
def test_a_table_on_another_drift_reference_is_no_nominal(tmp_path, other):
    """Tables measured before the reference became a network (protocol ``reference: true``),
    or on any other reference, do not share this latbench's drift scale."""
    path = _table(tmp_path / "old.csv", other)
    timer = CpuTimer(TimingConfig(rounds=2, reference=DRIFT_REFERENCE), threads=1)
    timer.reference_nominal_ms = 1.0
    set_drift_nominal(timer, argparse.Namespace(drift_from=None), path)
    assert timer.reference_nominal_ms is None  # resuming it: its own scale is not borrowed
    with pytest.raises(TableError, match="another drift reference"):
        set_drift_nominal(timer, argparse.Namespace(drift_from=path), tmp_path / "nets.csv")


def test_drift_from_a_table_without_reference_column_names_its_schema(tmp_path):
    """A memory table as --drift-from: one line naming the schema (was the bare "'reference_ms'"
    of a KeyError)."""
    from pathlib import Path

    memory = (
        Path(__file__).parents[3] / "device_profiles" / "cpu-amd-epyc-1t" / "memory-dints-small.csv"
    )
    with pytest.raises(TableError, match="has no reference_ms column"):
        nominal_reference_ms(memory)
    timer = CpuTimer(TimingConfig(rounds=2, reference=DRIFT_REFERENCE), threads=1)
    with pytest.raises(TableError, match="latbench.memory table has no reference_ms column"):
        set_drift_nominal(timer, argparse.Namespace(drift_from=memory), tmp_path / "nets.csv")


@pytest.mark.parametrize("protocol", [{"threads": 4}, {"clock": "perf_counter_ns"}])
def test_a_reference_timed_with_other_threads_or_clock_is_no_nominal(tmp_path, protocol):
    """Its reference time says nothing of this run's: a 4-thread or wall-clock nominal made
    the 1-thread run's drift wrong without a word."""
    path = _table(tmp_path / "ops.csv", REFERENCE_ID, **protocol)
    timer = CpuTimer(TimingConfig(rounds=2, reference=DRIFT_REFERENCE), threads=1)
    (name,) = protocol
    with pytest.raises(TableError, match=f"timed with {name} .*leave out --drift-from"):
        set_drift_nominal(timer, argparse.Namespace(drift_from=path), tmp_path / "nets.csv")
