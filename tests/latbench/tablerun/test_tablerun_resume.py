"""Resume rules of the one measure-into-table mechanism: whose table, what is in flight,
progress per round, where tables go, one arch_id across table kinds."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from latbench.archs import sample_architectures
from latbench.device import fingerprint
from latbench.memory import TrainConfig
from latbench.memory.table import measure_into_table
from latbench.netprofile import measure_architectures
from latbench.opspec import OpSpec
from latbench.profile import OpLatencyJob, profile_specs
from latbench.tablerun.compat import mismatches
from latbench.tablerun.ids import arch_id
from latbench.tablerun.inflight import InFlight, marker_path
from latbench.tablerun.paths import default_table_path, tables_home
from latbench.tables import meta_path, read_table
from latbench.timing import TimingConfig, make_timer

SPECS = [OpSpec.make("conv", (1, 4, 8, 8), kernel=k) for k in (1, 3, 5)]


def _timer(rounds: int = 1):
    return make_timer("cpu", TimingConfig(budget_ms=2, warmup_ms=1, rounds=rounds), threads=1)


def _fake_other_machine(path):
    meta = json.loads(meta_path(path).read_text())
    meta["fingerprint"].update(host="someone-elses-box")
    meta["fingerprint"]["libraries"]["torch"] = "2.1.0+cu118"
    meta_path(path).write_text(json.dumps(meta))


def test_a_table_from_another_machine_is_not_resumed(tmp_path):
    path = tmp_path / "ops.csv"
    profile_specs(SPECS[:2], path, _timer())
    _fake_other_machine(path)
    notes: list[str] = []
    run = profile_specs(SPECS, path, _timer(), on_note=notes.append)
    assert run.path != path and run.path.parent == path.parent
    assert len(run.measured) == 3 and not run.skipped
    assert len(notes) == 1 and "host" in notes[0] and "libraries.torch" in notes[0]
    assert len(read_table(path)) == 2  # the other machine's table is untouched
    again = profile_specs(SPECS, path, _timer(), on_note=notes.append)
    assert again.path == run.path and len(again.skipped) == 3  # this machine's own table resumes


def test_same_machine_resumes_and_the_fields_compared_are_listed(tmp_path):
    fp = fingerprint("cpu", threads=1)
    assert mismatches(fp, fp) == []
    assert mismatches({**fp, "taken_at": "yesterday", "os": "other kernel"}, fp) == []
    assert mismatches({**fp, "torch_threads": 2}, fp) == ["torch_threads: 2 != 1"]
    assert mismatches("a string", fp)[0].startswith("fingerprint:")


def test_an_item_in_flight_when_the_process_died_is_retried_once_then_recorded(tmp_path):
    path = tmp_path / "ops.csv"
    profile_specs(SPECS[:1], path, _timer())
    job = OpLatencyJob.of(_timer())
    InFlight(path).start([SPECS[1].key], [job.key_columns(SPECS[1])])  # ... and the process died
    notes: list[str] = []
    run = profile_specs(SPECS[:2], path, _timer(), on_note=notes.append)
    assert run.measured == [SPECS[1].key]  # a first death of unknown cause (a user's SIGKILL?)
    assert "measuring it again first" in notes[0]
    InFlight(path).start([SPECS[2].key], [job.key_columns(SPECS[2])], attempt=2)  # died twice
    run = profile_specs(SPECS, path, _timer(), on_note=notes.append)
    df = read_table(path).set_index("key")
    assert df.loc[SPECS[2].key, "status"] == "crashed" and df.loc[SPECS[2].key, "kind"] == "conv"
    assert not run.measured and not marker_path(path).exists()
    assert any("crashed in an earlier run" in n for n in notes)


def test_a_death_the_supervisor_saw_is_recorded_at_once(tmp_path, monkeypatch):
    path = tmp_path / "ops.csv"
    job = OpLatencyJob.of(_timer())
    InFlight(path).start([SPECS[0].key], [job.key_columns(SPECS[0])])
    monkeypatch.setenv("LATBENCH_LAST_DEATH", "signal SIGSEGV")
    profile_specs(SPECS[:2], path, _timer(), on_note=lambda _: None)
    df = read_table(path).set_index("key")
    assert df.loc[SPECS[0].key, "status"] == "crashed"
    assert "SIGSEGV" in df.loc[SPECS[0].key, "error"] and df.loc[SPECS[1].key, "status"] == "ok"


def test_a_group_in_flight_is_measured_one_at_a_time_first(tmp_path):
    path = tmp_path / "ops.csv"
    profile_specs(SPECS[:1], path, _timer(rounds=2))
    job = OpLatencyJob.of(_timer(rounds=2))
    InFlight(path).start([s.key for s in SPECS[1:]], [job.key_columns(s) for s in SPECS[1:]])
    sizes: list[int] = []
    run = profile_specs(
        SPECS,
        path,
        _timer(rounds=2),
        on_note=lambda _: None,
        on_round=lambda done, rounds, n: sizes.append(n),
    )
    assert run.measured == [s.key for s in SPECS[1:]] and sizes == [1, 1, 1, 1]
    assert set(read_table(path)["status"]) == {"ok"}


def test_interleaved_rounds_report_progress_per_round(tmp_path):
    seen: list[tuple[int, int, int]] = []
    rows: list[int] = []
    profile_specs(
        SPECS,
        tmp_path / "t.csv",
        _timer(rounds=3),
        on_round=lambda *a: seen.append(a),
        on_progress=lambda spec, row: rows.append(len(seen)),
    )
    assert seen == [(1, 3, 3), (2, 3, 3), (3, 3, 3)]
    assert rows == [3, 3, 3]  # rows land after the group's last round


def test_a_complete_table_is_only_read(tmp_path, monkeypatch):
    path = tmp_path / "ops.csv"
    profile_specs(SPECS, path, _timer())
    import latbench.tablerun.driver as driver

    monkeypatch.setattr(driver, "TableSession", None)  # opening it for writing would fail
    run = profile_specs(SPECS, path, _timer())
    assert len(run.skipped) == 3 and not run.measured


def test_default_tables_go_to_latbench_home_not_the_reference_data(monkeypatch, tmp_path):
    monkeypatch.delenv("LATBENCH_HOME", raising=False)
    assert str(tables_home()) == "latbench-tables"
    monkeypatch.setenv("LATBENCH_HOME", str(tmp_path))
    assert default_table_path("cpu-x-1t", "msnas-small") == tmp_path / "cpu-x-1t/msnas-small.csv"


def test_memory_and_networks_tables_of_the_same_architectures_join_on_arch_id(tmp_path):
    archs = sample_architectures("nasbench201", 2, "small", 0)
    measure_architectures(archs, tmp_path / "n.csv", _timer())
    measure_into_table(
        archs,
        tmp_path / "m.csv",
        lambda a: {"status": "ok", "error": "", "rss_growth_mib": 1.0},
        "cpu",
        TrainConfig(),
        threads=1,
    )
    nets, mem = read_table(tmp_path / "n.csv"), read_table(tmp_path / "m.csv")
    joined = pd.merge(nets, mem, on="arch_id", suffixes=("_net", "_mem"))
    assert sorted(joined["arch_id"]) == sorted(arch_id(a) for a in archs)
    assert all(len(a) == 40 for a in joined["arch_id"])


def test_items_missing_under_the_protocol_are_planned_once():
    from latbench.tablerun.driver import plan

    job = OpLatencyJob.of(_timer())
    pending, skipped = plan(job, [SPECS[0], SPECS[1], SPECS[0]], {SPECS[1].key})
    assert pending == [SPECS[0]] and skipped == [SPECS[1], SPECS[0]]


def test_a_worker_batch_returns_rows_and_its_device_fingerprint():
    from latbench.tablerun.job import measure_batch

    job = OpLatencyJob.of(_timer())
    result = measure_batch(job, SPECS[:2])
    assert [r["key"] for r in result.rows] == [s.key for s in SPECS[:2]]
    assert result.fingerprint["slug"] == fingerprint("cpu", threads=1)["slug"]
    assert all(r["protocol_id"] == job.protocol_id for r in result.rows)


def test_an_interrupted_batch_leaves_no_marker_to_blame(tmp_path):
    job = OpLatencyJob.of(_timer())

    def interrupted(items, on_round=None, on_turn=None):
        raise KeyboardInterrupt

    job.measure = interrupted
    from latbench.tablerun.driver import run_into_table

    with pytest.raises(KeyboardInterrupt):
        run_into_table(job, SPECS, tmp_path / "t.csv")
    assert not marker_path(tmp_path / "t.csv").exists()
