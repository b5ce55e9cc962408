"""Faults while measuring: poison ops, hanging ops, OOM, SIGTERM; each costs its item, recorded
with its status."""

from __future__ import annotations

import signal
import time

import pandas as pd
import pytest
from helpers import FAST, popen

from latbench.timed import failure_fields, time_guarded
from latbench.timing import TimingConfig, make_timer


@pytest.mark.parametrize(
    "exc",
    [
        MemoryError(),
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] . DefaultCPUAllocator: can't allocate "
            "memory: you tried to allocate 1099511627776 bytes. Error code 12 (Cannot "
            "allocate memory)"
        ),
        RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    ],
)
def test_out_of_memory_on_any_device_is_status_oom(exc):
    assert failure_fields(exc)["status"] == "oom"
    assert failure_fields(ValueError("groups must divide channels"))["status"] == "error"


def test_a_build_that_runs_out_of_cpu_memory_is_recorded_oom():
    def make():
        raise MemoryError("cannot allocate 10^12 floats")

    fields, result = time_guarded(make, make_timer("cpu", TimingConfig(budget_ms=1), threads=1))
    assert fields["status"] == "oom" and result is None


@pytest.mark.slow
def test_poison_and_hanging_ops_are_recorded_and_the_run_finishes_the_others(tmp_path):
    """One group of seven (interleaved): the item whose turn it was when the child died is
    recorded at once and the rest measured again, so each fault costs exactly one restart;
    the hanging op is ended 6 s after its own turn began, not 6 s x the group. (One-time
    imports are paid before the first turn, ``TableJob.warm_up``; a healthy turn here takes
    milliseconds, so 6 s is wide margin even on a loaded 2-core CI machine.)"""
    table = tmp_path / "t.csv"
    proc = popen("profile", "test-faults", *FAST, "--table", str(table), "--item-timeout", "6")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    df = pd.read_csv(table, keep_default_na=False)
    assert df["key"].is_unique and len(df) == 7
    status = dict(zip(df["key"].str.split("|").str[0] + df["op_params"].str[-3:], df["status"]))
    by_kind = df.groupby("kind")["status"].apply(sorted).to_dict()
    assert by_kind == {
        "conv": ["ok"] * 4,
        "test_crash": ["crashed"],
        "test_exit": ["crashed"],
        "test_hang": ["timeout"],
    }, status
    errors = dict(zip(df["kind"], df["error"]))
    assert "SIGSEGV" in errors["test_crash"] and "exit status 3" in errors["test_exit"]
    assert "no progress for 6.0 s" in errors["test_hang"]
    assert err.count("restarting") == 3, err[-3000:]  # one restart per fault
    assert "alone" not in err  # no group was measured again one item at a time
    assert not (tmp_path / "t.inflight.json").exists()


@pytest.mark.slow
def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    """SIGTERM while an item is in flight, after a row was written: exit 143, the written rows
    kept, the item in flight not blamed (no marker left). One item at a time (``--rounds 1``),
    so the first row comes after one item's budget instead of a whole group's."""
    table, marker = tmp_path / "t.csv", tmp_path / "t.inflight.json"
    proc = popen(
        "profile",
        "test-convs",
        "--threads",
        "1",
        "--budget-ms",
        "1500",
        "--warmup-ms",
        "1",
        "--target-ci",
        "0.0001",
        "--rounds",
        "1",
        "--table",
        str(table),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait for the first row, with the next one in flight
        if table.exists() and len(table.read_text().splitlines()) >= 2 and marker.exists():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-2000:]
    assert "terminated (SIGTERM)" in err and "every row written so far is kept" in err
    rows = pd.read_csv(table)
    assert 1 <= len(rows) < 8 and set(rows["status"]) == {"ok"}  # stopped mid-run, rows kept
    assert not marker.exists()
