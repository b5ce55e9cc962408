"""Resume rules of the one measure-into-table mechanism: whose table, progress per round,
where tables go, one arch_id across table kinds."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from latbench.archs import sample_architectures
from latbench.cli import main
from latbench.device import fingerprint
from latbench.errors import LatbenchError
from latbench.memory.steps import TrainConfig
from latbench.memory.table import measure_into_table
from latbench.netprofile import measure_architectures
from latbench.opspec import OpSpec
from latbench.profile import OpLatencyJob, profile_specs
from latbench.tablerun.compat import mismatches
from latbench.tablerun.ids import arch_id
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


def test_other_timer_settings_say_that_they_measure_the_table_s_items_again(tmp_path, capsys):
    path, notes = tmp_path / "ops.csv", []
    first = profile_specs(SPECS[:2], path, _timer(), on_note=notes.append)
    assert not notes
    timer = make_timer("cpu", TimingConfig(budget_ms=3, warmup_ms=1, rounds=1), threads=1)
    second = profile_specs(SPECS, path, timer, on_note=notes.append)
    assert len(second.measured) == 3 and second.protocol_id != first.protocol_id
    assert notes == [
        f"{path}: 2 of these items are in the table under another protocol "
        f"({first.protocol_id}: other timer settings); measuring them again under "
        f"{second.protocol_id}, beside those rows"
    ]
    assert len(read_table(path)) == 5
    meta = json.loads(meta_path(path).read_text())  # each row's protocol stays described
    assert meta["protocol_id"] == first.protocol_id
    assert meta["other_protocols"][second.protocol_id]["budget_ms"] == 3
    profile_specs(SPECS, path, timer)  # recorded once
    assert list(json.loads(meta_path(path).read_text())["other_protocols"]) == [second.protocol_id]
    assert main(["show", str(path)]) == 0
    assert f"also protocol {second.protocol_id} (3 rows)" in capsys.readouterr().out


def test_same_machine_resumes_and_the_fields_compared_are_listed(tmp_path):
    fp = fingerprint("cpu", threads=1)
    assert mismatches(fp, fp) == []
    assert mismatches({**fp, "taken_at": "yesterday", "os": "other kernel"}, fp) == []
    assert mismatches({**fp, "torch_threads": 2}, fp) == ["torch_threads: 2 != 1"]
    assert mismatches("a string", fp)[0].startswith("fingerprint:")


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

    monkeypatch.setattr(driver, "TableWriter", None)  # opening it for writing would fail
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


def test_a_ray_task_returns_rows_measured_on_its_table_s_device_only():
    from latbench.fleet.run import measure_on

    job = OpLatencyJob.of(_timer())
    slug = fingerprint("cpu", threads=1)["slug"]
    rows = measure_on(lambda device: job, "cpu", SPECS[:2], slug)
    assert [r["key"] for r in rows] == [s.key for s in SPECS[:2]]
    assert all(r["protocol_id"] == job.protocol_id for r in rows)
    with pytest.raises(LatbenchError, match=f"ran on {slug}, not on a gpu-x device"):
        measure_on(lambda device: job, "cpu", SPECS[:1], "gpu-x")


def test_an_interleaved_group_is_bounded_by_the_memory_its_ops_hold():
    from latbench.profile import INTERLEAVE_BYTES
    from latbench.tablerun.driver import batches

    job = OpLatencyJob.of(_timer(rounds=2))
    small = [OpSpec.make("conv", (1, 4, 8, 8), kernel=1, out=c) for c in range(1, 301)]
    big = [OpSpec.make("conv", (1, 64, 512, 512), kernel=1, out=c) for c in range(1, 41)]
    assert job.item_bytes(big[0]) == 2 * 64 * 512 * 512 * 4
    assert [len(b) for b in batches(job, small)] == [256, 44]  # group_size alone
    sizes = [len(b) for b in batches(job, big)]
    assert sum(sizes) == 40 and max(sizes) == INTERLEAVE_BYTES // job.item_bytes(big[0])
    huge = OpSpec.make("conv", (1, 64, 4096, 4096), kernel=1)
    assert batches(job, [huge, *small[:2]]) == [[huge], small[:2]]  # alone past the bound
