"""Turns: the watchdog's deadline is per item turn, and the item whose turn it was when the
process died is the one recorded (the rest of its group is measured as usual)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading

import pytest
from helpers import REPO

from latbench.opspec import OpSpec
from latbench.profile import OpLatencyJob, profile_specs
from latbench.tablerun.inflight import InFlight, culprit, fault_rows, marker_path, read_marker
from latbench.tables import read_table
from latbench.timed import DRIFT_REFERENCE
from latbench.timing import TimingConfig, make_timer
from latbench.timing.adaptive import DriftReference

SPECS = [OpSpec.make("conv", (1, 4, 8, 8), kernel=k) for k in (1, 3, 5)]
KEYS = [s.key for s in SPECS]


def _timer(rounds: int = 2, reference: DriftReference | None = None):
    return make_timer(
        "cpu", TimingConfig(budget_ms=2, warmup_ms=1, rounds=rounds, reference=reference), threads=1
    )


def _rows():
    job = OpLatencyJob.of(_timer())
    return [job.key_columns(s) for s in SPECS]


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_each_turn_moves_the_deadline_to_now_plus_the_limit(tmp_path):
    clock = FakeClock()
    fired: list[bool] = []
    inflight = InFlight(
        tmp_path / "t.csv", limit_s=10, clock=clock, on_timeout=lambda: fired.append(True)
    )
    inflight.start(KEYS, _rows())
    assert inflight.deadline == 110  # the whole batch would have had 30 s before
    clock.t = 108
    inflight.turn(0)
    assert inflight.deadline == 118
    clock.t = 117
    inflight.turn(1)
    assert inflight.deadline == 127  # 27 s since start: no item had 10 s without a turn
    inflight.finish()
    assert inflight.deadline is None and not fired and not marker_path(tmp_path / "t.csv").exists()


def test_the_watchdog_names_only_the_item_whose_turn_ran_past_the_limit(tmp_path):
    fired = threading.Event()
    table = tmp_path / "t.csv"
    inflight = InFlight(table, limit_s=0.3, on_timeout=fired.set)
    inflight.start(KEYS, _rows())
    for i in (0, 1, 0, 1):  # each turn well within the limit, 0.4 s in all
        inflight.turn(i)
        assert not fired.wait(0.1)
    inflight.turn(2)  # ... and this one hangs
    assert fired.wait(10)
    marker = read_marker(table)
    assert marker["keys"] == [KEYS[2]] and marker["reason"] == "timeout"
    assert marker["batch_size"] == 3 and culprit(marker) == 0
    assert [(r["key"], r["status"]) for r in fault_rows(marker)] == [(KEYS[2], "timeout")]


def test_the_current_turn_survives_the_death_of_the_process(tmp_path):
    table = tmp_path / "t.csv"
    child = (
        "import json, os, signal, sys; from pathlib import Path; "
        "from latbench.tablerun.inflight import InFlight; "
        "f = InFlight(Path(sys.argv[1]), note=False); "
        "f.start(json.loads(sys.argv[2]), json.loads(sys.argv[3])); "
        "f.turn(0); f.turn(1); os.kill(os.getpid(), signal.SIGKILL)"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            child,
            str(table),
            json.dumps(KEYS),
            json.dumps(_rows(), default=str),
        ],
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL  # died at item 1, no clean-up
    marker = read_marker(table)
    assert marker is not None and marker["keys"] == KEYS and marker["turn"] == 1
    assert culprit(marker) == 1 and marker["reason"] == "running"


@pytest.mark.parametrize(
    "turn, expected", [(-1, None), (1, 1), (3, None), ("1", None), (True, None), (None, None)]
)
def test_culprit_is_the_turn_when_it_names_an_item(turn, expected):
    marker = {"keys": KEYS, "rows": _rows(), "turn": turn}
    assert culprit(marker) == expected  # 3 (the reference op), -1 (before the first): none
    assert culprit({"keys": KEYS[:1], "rows": _rows()[:1], "turn": turn}) == 0


def test_a_death_the_supervisor_saw_records_the_current_item_and_measures_the_rest(
    tmp_path, monkeypatch
):
    path = tmp_path / "ops.csv"
    inflight = InFlight(path, note=False)
    inflight.start(KEYS, _rows())
    inflight.turn(1)  # ... and the process died here
    monkeypatch.setenv("LATBENCH_LAST_DEATH", "signal SIGSEGV")
    sizes: list[int] = []
    notes: list[str] = []
    run = profile_specs(
        SPECS,
        path,
        _timer(),
        on_note=notes.append,
        on_round=lambda done, rounds, n: sizes.append(n),
    )
    df = read_table(path).set_index("key")
    assert df.loc[KEYS[1], "status"] == "crashed" and "SIGSEGV" in df.loc[KEYS[1], "error"]
    assert run.measured == [KEYS[0], KEYS[2]] and sizes == [2, 2]  # one group, not alone
    assert "crashed in an earlier run" in notes[0] and "other 2 items" in notes[0]


def test_an_unknown_first_death_measures_only_the_current_item_again_alone(tmp_path):
    path = tmp_path / "ops.csv"
    inflight = InFlight(path, note=False)
    inflight.start(KEYS, _rows())
    inflight.turn(2)  # ... and the user's SIGKILL: not the item's fault
    sizes: list[int] = []
    notes: list[str] = []
    run = profile_specs(
        SPECS,
        path,
        _timer(),
        on_note=notes.append,
        on_round=lambda done, rounds, n: sizes.append(n),
    )
    assert run.measured == [KEYS[2], KEYS[0], KEYS[1]] and sizes == [1, 1, 2, 2]
    assert set(read_table(path)["status"]) == {"ok"}
    assert "measuring it again first, alone" in notes[0] and KEYS[2] in notes[0]


def test_turns_reach_the_marker_while_a_group_is_built_described_and_timed(tmp_path):
    path = tmp_path / "ops.csv"
    seen: list[tuple[int, int | None]] = []

    class Spy(OpLatencyJob):
        def describe(self, item):
            seen.append((-1, culprit(read_marker(path))))
            return super().describe(item)

        def measure(self, items, on_round=None, on_turn=None):
            def turn(i: int) -> None:
                on_turn(i)
                seen.append((i, read_marker(path)["turn"]))

            return super().measure(items, on_round, turn)

    base = OpLatencyJob.of(_timer(reference=DRIFT_REFERENCE))
    job = Spy(
        **{
            k: getattr(base, k)
            for k in ("schema", "protocol", "fingerprint", "meta", "group_size", "timer")
        }
    )
    from latbench.tablerun.driver import run_into_table

    run_into_table(job, SPECS, path)
    assert [c for i, c in seen if i == -1][:3] == [0, 1, 2]  # describe's turns
    timed = [(i, t) for i, t in seen if i >= 0]
    assert all(i == t for i, t in timed) and {i for i, _ in timed} == {0, 1, 2, 3}  # 3: reference
    assert not marker_path(path).exists()


def test_a_death_after_the_rows_were_written_records_no_second_row(tmp_path, monkeypatch):
    # killed (SIGKILL, the OOM killer) while writing the group's rows, before the marker went
    path = tmp_path / "ops.csv"
    profile_specs(SPECS, path, _timer())
    inflight = InFlight(path, note=False)
    inflight.start(KEYS, _rows())
    inflight.turn(1)
    monkeypatch.setenv("LATBENCH_LAST_DEATH", "signal SIGKILL")
    notes: list[str] = []
    run = profile_specs(SPECS, path, _timer(), on_note=notes.append)
    df = read_table(path)
    assert sorted(df["key"]) == sorted(KEYS) and set(df["status"]) == {"ok"}
    assert run.measured == [] and not marker_path(path).exists()
    assert "after writing" in notes[0]


@pytest.mark.parametrize("row", [{}, {"key": "conv|junk"}, {"key": KEYS[1], "protocol_id": "x"}])
def test_a_marker_row_edited_by_hand_is_never_written_to_the_table(tmp_path, monkeypatch, row):
    path = tmp_path / "ops.csv"
    rows = _rows()
    rows[1] = row
    marker_path(path).write_text(
        json.dumps({"keys": KEYS, "rows": rows, "turn": 1, "attempt": 2}, default=str)
    )
    monkeypatch.setenv("LATBENCH_LAST_DEATH", "signal SIGSEGV")
    notes: list[str] = []
    run = profile_specs(SPECS, path, _timer(), on_note=notes.append)
    df = read_table(path)  # still readable: no row with empty fields or a foreign key
    assert sorted(df["key"]) == sorted(KEYS) and set(df["status"]) == {"ok"}
    assert run.measured[0] == KEYS[1] and "measuring it again first, alone" in notes[0]


@pytest.mark.slow
def test_one_time_costs_are_paid_before_the_first_items_turn(tmp_path):
    # in a fresh process the first op's features import torch's meta-device code (2-4 s on
    # two cores, more under load): charged to item 0's describe turn, --item-timeout 5 on a
    # busy machine recorded healthy ops as timeout
    child = (
        "import sys, time; from pathlib import Path; "
        "import latbench.tablerun.inflight as f; from latbench.profile import profile_specs; "
        "from latbench.opspec import OpSpec; from latbench.timing import TimingConfig, "
        "make_timer; t = []; s = f.InFlight.start; "
        "f.InFlight.start = lambda self, *a, **k: (t.append(time.perf_counter()), "
        "s(self, *a, **k))[1]; "
        "profile_specs([OpSpec.make('conv', (1, 4, 8, 8), kernel=3)], Path(sys.argv[1]), "
        "make_timer('cpu', TimingConfig(budget_ms=2, warmup_ms=1), threads=1)); "
        "print(t[1] - t[0])"
    )  # start (keys) .. describe .. start (described rows)
    out = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path / "t.csv")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.split()[-1]) < 0.5


@pytest.mark.parametrize("kind", ["networks", "memory"])
def test_a_crash_the_supervisor_saw_is_recorded_in_network_and_memory_tables(
    tmp_path, monkeypatch, kind
):
    # the marker's row passes the table's own checks for every table kind, not only ops
    from latbench.archs.registry import sample_architectures
    from latbench.memory.steps import TrainConfig
    from latbench.memory.table import memory_job
    from latbench.netprofile import NetworkJob
    from latbench.profile import timer_job_fields
    from latbench.tablerun.session import TableSession
    from latbench.tables.schema import NETWORKS

    archs = sample_architectures("nasbench201", 2, "small", seed=1)
    if kind == "networks":
        job = NetworkJob(**timer_job_fields(_timer(), NETWORKS), timer=_timer(), size="small")
        items = [(a, 1) for a in archs]
    else:
        job, items = memory_job("cpu", TrainConfig(), lambda s: {}, threads=1), archs
    path = tmp_path / "t.csv"
    inflight = InFlight(path, note=False)
    inflight.start([job.key(i) for i in items], [job.describe(i) for i in items])
    inflight.turn(1)  # ... and the process died here
    monkeypatch.setenv("LATBENCH_LAST_DEATH", "signal SIGSEGV")
    with TableSession(
        path, job.schema, job.side_car(), on_note=lambda _: None, done_keys=job.done_keys
    ):
        pass
    assert list(read_table(path)["status"]) == ["crashed"]
    assert job.done_keys(read_table(path)) == {job.key(items[1])}
