"""Faults while measuring, from the command line: poison, hanging and GIL-holding ops, a killed
worker, a killed driver, Ctrl-C, SIGTERM, a leaking worker; each costs its item at most,
recorded with its status, and the run (or its re-run) finishes the others."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import FAST, env, latbench_cmd, popen

from latbench.timed import failure_fields, time_guarded_many
from latbench.timing import TimingConfig, make_timer

SLOW_ITEMS = ("--threads", "1", "--budget-ms", "600", "--warmup-ms", "1", "--target-ci", "0.0001")
SLOW_ITEMS += ("--rounds", "1")  # one item at a time: a row every 0.6 s


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

    timer = make_timer("cpu", TimingConfig(budget_ms=1), threads=1)
    ((fields, result),) = time_guarded_many([make], timer)
    assert fields["status"] == "oom" and result is None


def _rows(table: Path) -> int:
    return max(0, len(table.read_text().splitlines()) - 1) if table.exists() else 0


def _wait_rows(table: Path, n: int, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while _rows(table) < n:
        assert time.monotonic() < deadline, f"no {n} rows in {timeout_s} s"
        time.sleep(0.05)


def _workers(pid: int) -> list[int]:
    """The driver's measuring workers (children running ``spawn_main``; Linux ``/proc``)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


def _gone(pid: int, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_poison_hanging_and_gil_holding_ops_cost_their_item_and_the_run_finishes(tmp_path):
    """One group of nine (interleaved): the item whose turn it was when the worker died or
    stopped making progress is recorded and the rest of the group measured again by a fresh
    worker. The regular expression holds the GIL: only a kill from outside its process stops
    it. (A healthy turn here takes milliseconds, so 6 s is wide margin on a loaded machine.)"""
    table = tmp_path / "t.csv"
    proc = popen("profile", "test-faults", *FAST, "--table", str(table), "--item-timeout", "6")
    out, err = proc.communicate(timeout=400)
    assert proc.returncode == 0, err[-2000:]
    df = pd.read_csv(table, keep_default_na=False)
    assert df["key"].is_unique and len(df) == 9
    by_kind = df.groupby("kind")["status"].apply(sorted).to_dict()
    assert by_kind == {
        "conv": ["ok"] * 5,
        "test_crash": ["crashed"],
        "test_exit": ["crashed"],
        "test_hang": ["timeout"],
        "test_regex": ["timeout"],
    }, by_kind
    errors = dict(zip(df["kind"], df["error"]))
    assert "SIGSEGV" in errors["test_crash"] and "exit status 3" in errors["test_exit"]
    assert "no progress for 6.0 s" in errors["test_hang"] and "killed" in errors["test_regex"]
    assert err.count("are measured again") == 4, err[-3000:]  # one fresh worker per fault
    assert "one at a time" not in err  # no group was split: each fault named its item


@pytest.mark.slow
def test_a_killed_worker_costs_its_item_and_a_killed_driver_resumes_without_remeasuring(
    tmp_path,
):
    table = tmp_path / "t.csv"
    args = ("profile", "test-convs", *SLOW_ITEMS, "--table", str(table))
    proc = popen(*args)
    _wait_rows(table, 1)
    (worker,) = _workers(proc.pid)
    os.kill(worker, signal.SIGKILL)  # mid-item: the next item is in flight
    _wait_rows(table, 4)
    (worker,) = _workers(proc.pid)
    proc.kill()  # the driver, SIGKILL: no handler runs
    proc.communicate(timeout=60)
    assert _gone(worker)  # the worker dies with its driver (PR_SET_PDEATHSIG)
    before = pd.read_csv(table, keep_default_na=False)
    assert 4 <= len(before) < 8
    (crashed,) = before.index[before["status"] == "crashed"]
    assert "SIGKILL" in before.loc[crashed, "error"]
    assert (before.drop(index=crashed)["status"] == "ok").all()

    again = popen(*args)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err[-2000:]
    after = pd.read_csv(table, keep_default_na=False)
    assert after["key"].is_unique and len(after) == 8
    assert after.iloc[: len(before)].equals(before)  # nothing measured twice
    assert f"already in table {len(before)}" in out


@pytest.mark.slow
def test_ctrl_c_stops_the_worker_and_leaves_a_resumable_table(tmp_path):
    table = tmp_path / "t.csv"
    args = ("profile", "test-convs", *SLOW_ITEMS, "--table", str(table))
    proc = popen(*args, start_new_session=True)
    _wait_rows(table, 1)
    (worker,) = _workers(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends: the whole group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted; every row written so far is kept" in err
    assert _gone(worker)
    kept = pd.read_csv(table)
    assert 1 <= len(kept) < 8 and set(kept["status"]) == {"ok"}  # the item in flight not blamed
    again = subprocess.run(latbench_cmd(*args), env=env(), capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    after = pd.read_csv(table)
    assert after["key"].is_unique and len(after) == 8 and set(after["status"]) == {"ok"}


@pytest.mark.slow
def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    """SIGTERM to the driver alone while an item is in flight: exit 143, the written rows
    kept, the item in flight not blamed, the worker stopped."""
    table = tmp_path / "t.csv"
    proc = popen("profile", "test-convs", *SLOW_ITEMS, "--table", str(table))
    _wait_rows(table, 1)
    (worker,) = _workers(proc.pid)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err[-2000:]
    assert "terminated (SIGTERM)" in err and "every row written so far is kept" in err
    rows = pd.read_csv(table)
    assert 1 <= len(rows) < 8 and set(rows["status"]) == {"ok"}  # stopped mid-run, rows kept
    assert _gone(worker)


@pytest.mark.slow
def test_a_worker_past_its_memory_bound_is_replaced_and_the_run_completes(tmp_path):
    """Each ``test_leak`` build keeps 128 MiB: eight of them grow a worker by 1 GiB, past a
    1000 MiB bound whatever its resident memory at start; it is replaced (at least once) and
    every item is measured."""
    table = tmp_path / "t.csv"
    proc = popen(
        "profile", "test-leaks", *FAST, "--rounds", "1", "--table", str(table),
        "--worker-rss", "1000",
    )  # fmt: skip
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert "starting a fresh one" in err, err[-2000:]
    rows = pd.read_csv(table)
    assert len(rows) == 8 and set(rows["status"]) == {"ok"}
