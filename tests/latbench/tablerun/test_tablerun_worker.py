"""The driver's side of a fault (``tablerun.driver`` with an executor that reports one), and
the spawned ``Worker`` itself: the item at fault is recorded, the rest measured again."""

from __future__ import annotations

import os
import signal

import pytest

from latbench.opspec import OpSpec
from latbench.profile import OpLatencyJob
from latbench.tablerun.driver import run_into_table
from latbench.tablerun.worker import Fault, InProcess, Worker
from latbench.tables import read_table
from latbench.timed import DRIFT_REFERENCE
from latbench.timing import TimingConfig, make_timer

SPECS = [OpSpec.make("conv", (1, 4, 8, 8), kernel=k) for k in (1, 3, 5)]
KEYS = [s.key for s in SPECS]


def _timer(rounds: int = 2, reference: bool = False):
    config = TimingConfig(
        budget_ms=2, warmup_ms=1, rounds=rounds, reference=DRIFT_REFERENCE if reference else None
    )
    return make_timer("cpu", config, threads=1)


class Faulty(InProcess):
    """Measures in this process, but reports ``faults`` (in order) for the first batches."""

    def __init__(self, *faults: Fault):
        super().__init__()
        self.faults, self.sizes, self.closed = list(faults), [], False

    def measure(self, job, items, on_round):
        self.sizes.append(len(items))
        return self.faults.pop(0) if self.faults else super().measure(job, items, on_round)

    def close(self) -> None:
        self.closed = True


def test_the_item_at_fault_is_recorded_and_the_rest_of_its_group_measured_again(tmp_path):
    path, notes = tmp_path / "ops.csv", []
    faulty = Faulty(Fault(1, "crashed", "the measuring process died (SIGSEGV); recorded"))
    run = run_into_table(
        OpLatencyJob.of(_timer()), SPECS, path, executor=faulty, on_note=notes.append
    )
    df = read_table(path).set_index("key")
    assert df.loc[KEYS[1], "status"] == "crashed" and "SIGSEGV" in df.loc[KEYS[1], "error"]
    assert df.loc[KEYS[1], "kind"] == "conv"  # the item's own columns, not only its key
    assert run.measured == [KEYS[0], KEYS[2]] and run.failed == [KEYS[1]]
    assert faulty.sizes == [3, 2] and faulty.closed  # one group again, not one at a time
    assert "other 2 items" in notes[0]


def test_a_fault_before_any_items_turn_measures_the_group_one_at_a_time(tmp_path):
    faulty = Faulty(Fault(None, "crashed", "died"), Fault(0, "timeout", "no progress"))
    run = run_into_table(
        OpLatencyJob.of(_timer()), SPECS, tmp_path / "t.csv", executor=faulty, on_note=print
    )
    assert faulty.sizes == [3, 1, 1, 1]  # the second fault names the first item alone
    assert run.failed == [KEYS[0]] and run.measured == KEYS[1:]
    assert read_table(tmp_path / "t.csv").set_index("key").loc[KEYS[0], "status"] == "timeout"


@pytest.mark.parametrize("kind", ["networks", "memory"])
def test_a_fault_row_passes_the_checks_of_network_and_memory_tables(tmp_path, kind):
    from latbench.archs.registry import sample_architectures
    from latbench.memory.steps import TrainConfig
    from latbench.memory.table import memory_job
    from latbench.netprofile import NetworkJob
    from latbench.profile import timer_job_fields
    from latbench.tables.schema import NETWORKS

    archs = sample_architectures("nasbench201", 1, "small", seed=1)
    if kind == "networks":
        job = NetworkJob(**timer_job_fields(_timer(), NETWORKS), timer=_timer(), size="small")
        items = [(a, 1) for a in archs]
    else:
        job, items = memory_job("cpu", TrainConfig(), lambda s: {}, threads=1), archs
    path = tmp_path / "t.csv"
    run_into_table(job, items, path, executor=Faulty(Fault(0, "crashed", "died")), on_note=print)
    assert list(read_table(path)["status"]) == ["crashed"]
    assert job.done_keys(read_table(path)) == {job.key(items[0])}


def test_an_interrupted_run_stops_its_executor_and_keeps_its_rows(tmp_path):
    class Interrupted(Faulty):
        def measure(self, job, items, on_round):
            if self.sizes:
                raise KeyboardInterrupt
            return super().measure(job, items, on_round)

    job, path = OpLatencyJob.of(_timer(rounds=1)), tmp_path / "t.csv"
    executor = Interrupted()
    with pytest.raises(KeyboardInterrupt) as stopped:
        run_into_table(job, SPECS, path, executor=executor)
    assert executor.closed and list(read_table(path)["key"]) == KEYS[:1]
    # the CLI's one line says where the rows are (a search's --confirm named no table)
    assert stopped.value.__notes__ == [f"1 row(s) of this run in {path}; a re-run resumes"]
    run = run_into_table(job, SPECS, path)  # resumable: the lock was released
    assert run.skipped == KEYS[:1] and run.measured == KEYS[1:]


@pytest.mark.slow
def test_a_worker_is_reused_replaced_after_a_death_and_hands_on_the_drift_scale():
    worker = Worker(item_timeout_s=60)
    job = OpLatencyJob.of(_timer(reference=True))
    try:
        rows = worker.measure(job, SPECS[:2], None)
        assert [r["status"] for r in rows] == ["ok", "ok"]
        first = worker._proc.pid
        assert worker.measure(job, SPECS[2:], None)[0]["status"] == "ok"
        assert worker._proc.pid == first  # one warm worker across batches
        nominal = worker._nominal
        assert nominal is not None
        worker._turns[0] = 0
        os.kill(first, signal.SIGKILL)
        worker._proc.join()
        fault = worker._wait(60, None, 1)
        assert fault.at == 0 and fault.status == "crashed" and "SIGKILL" in fault.error
        worker._stop(kill=True)
        assert worker.measure(job, SPECS[:1], None)[0]["status"] == "ok"
        assert worker._proc.pid != first and worker._nominal == nominal
    finally:
        worker.close()
    assert worker._proc is None
