"""Tables: schema checks, crash safety (partial rows, SIGKILL mid-run), clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from latbench.errors import TableError
from latbench.opspec import OpSpec
from latbench.profile import OpLatencyJob
from latbench.spaces import get_space
from latbench.tables import LATENCY, TableWriter, merge_tables, meta_path, read_table

META = {"fingerprint": {"slug": "cpu-test-1t"}, "protocol_id": "p1"}


def _key(name: str) -> str:
    """A real OpSpec key per one-letter name (rows are validated when read)."""
    return OpSpec.make("identity", (1, ord(name) - 96, 4, 4)).key


def _row(name: str, ms: float = 1.0, protocol: str = "p1") -> dict:
    spec = OpSpec.from_key(_key(name))
    return {
        "key": spec.key,
        "kind": spec.kind,
        "dtype": spec.dtype,
        "mode": spec.mode,
        "input_shape": "x".join(map(str, spec.input_shape)),
        "status": "ok",
        "source": "measured",
        "protocol_id": protocol,
        "latency_median_ms": ms,
        "latency_min_ms": ms,
    }


def test_append_read_round_trip(tmp_path):
    w = TableWriter(tmp_path / "t.csv", LATENCY, META)
    w.append(_row("a", 1.5))
    w.append(_row("b", 2.5))
    df = read_table(tmp_path / "t.csv")
    assert list(df["key"]) == [_key("a"), _key("b")]
    assert df["latency_median_ms"].tolist() == [1.5, 2.5]
    assert df.attrs["meta"]["schema"] == "latbench.latency"
    assert "latency_median_ms" in df.attrs["meta"]["columns"]


def test_the_side_car_is_shared_by_derived_frames_and_read_only(tmp_path):
    import copy

    w = TableWriter(tmp_path / "t.csv", LATENCY, META)
    w.append(_row("a", 1.5))
    df = read_table(tmp_path / "t.csv")
    meta = df.attrs["meta"]
    derived = df[df["latency_median_ms"] > 0].reset_index(drop=True).copy()
    assert derived.attrs["meta"] is meta  # pandas' deep copy of attrs shares it
    for change in (
        lambda m: m.__setitem__("schema", "x"),
        lambda m: m.update(a=1),
        lambda m: m["fingerprint"].__setitem__("slug", "other"),
        lambda m: m.pop("schema"),
    ):
        with pytest.raises(TypeError, match="read-only"):
            change(meta)
    assert meta["fingerprint"]["slug"] == "cpu-test-1t"
    mine = dict(meta)  # a plain copy changes freely
    mine["schema"] = "x"
    assert meta["schema"] == "latbench.latency"
    text = json.dumps(meta, sort_keys=True)
    assert json.loads(text) == json.loads(meta_path(tmp_path / "t.csv").read_text())
    rebuild, args = meta.__reduce__()  # how pickle (Ray's transfer) rebuilds it
    assert rebuild(*args) == meta == copy.deepcopy(meta)


def test_the_side_car_error_names_a_copy_that_changes_nested_fields(tmp_path):
    """The read-only error's advice works for nested fields too (``dict(meta)`` copies only
    the top level), and the copy shares no list with the table's frames."""
    w = TableWriter(tmp_path / "t.csv", LATENCY, {**META, "tags": [1, 2]})
    w.append(_row("a", 1.5))
    meta = read_table(tmp_path / "t.csv").attrs["meta"]
    with pytest.raises(TypeError, match=r"attrs\['meta'\]\.thawed\(\)"):
        meta["fingerprint"]["slug"] = "other"
    mine = meta.thawed()
    mine["fingerprint"]["slug"] = "other"
    mine["tags"].append(3)
    assert type(mine) is dict and type(mine["fingerprint"]) is dict
    assert meta["fingerprint"]["slug"] == "cpu-test-1t" and meta["tags"] == [1, 2]


def test_done_keys_are_per_protocol(tmp_path):
    jobs = [OpLatencyJob(LATENCY, {"budget_ms": b}, {}) for b in (1, 2)]
    w = TableWriter(tmp_path / "t.csv", LATENCY, META)
    w.append(_row("a", protocol=jobs[0].protocol_id))
    w.append(_row("b", protocol=jobs[1].protocol_id))
    table = read_table(w.path)
    assert jobs[0].done_keys(table) == {_key("a")}
    assert jobs[1].done_keys(table) == {_key("b")}


def test_partial_last_line_is_dropped_on_reopen(tmp_path):
    path = tmp_path / "t.csv"
    TableWriter(path, LATENCY, META).append(_row("a"))
    with open(path, "a") as fh:
        fh.write("b,conv,{},1x2")  # a writer killed mid-row
    assert list(read_table(path)["key"]) == [_key("a")]
    with pytest.warns(UserWarning, match="partial last row"):
        w = TableWriter(path, LATENCY, META)
    w.append(_row("c"))
    assert list(read_table(path)["key"]) == [_key("a"), _key("c")]


def test_other_device_is_refused(tmp_path):
    TableWriter(tmp_path / "t.csv", LATENCY, META).append(_row("a"))
    with pytest.raises(TableError, match="holds device 'cpu-test-1t'"):
        TableWriter(tmp_path / "t.csv", LATENCY, {"fingerprint": {"slug": "nvidia-v100"}})


def test_unknown_row_field_is_refused(tmp_path):
    w = TableWriter(tmp_path / "t.csv", LATENCY, META)
    with pytest.raises(TableError, match="latency_ns"):
        w.append({"key": "a", "latency_ns": 3})


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: meta_path(p).unlink(), "missing side-car"),
        (lambda p: meta_path(p).write_text("{nope"), "not valid JSON"),
        (lambda p: meta_path(p).write_text(json.dumps({"schema": "x"})), "field 'schema' is 'x'"),
        (
            lambda p: meta_path(p).write_text(
                json.dumps({"schema": "latbench.latency", "schema_version": 99})
            ),
            "schema_version",
        ),
        (lambda p: p.write_text("key,wrong\n"), "header does not match"),
        (lambda p: p.write_text(p.read_text().replace("1.5", "fast")), "field 'latency_median_ms'"),
    ],
)
def test_malformed_tables_name_file_and_field(tmp_path, damage, message):
    path = tmp_path / "t.csv"
    TableWriter(path, LATENCY, META).append(_row("a", 1.5))
    damage(path)
    with pytest.raises(TableError, match=message) as err:
        read_table(path)
    assert "t." in str(err.value)  # names the file (csv or its side-car)


def test_missing_table_is_a_clear_error(tmp_path):
    with pytest.raises(TableError, match="no such table file"):
        read_table(tmp_path / "absent.csv")


def test_merge_keeps_last_row_per_key(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    TableWriter(a, LATENCY, META).append(_row("x", 1.0))
    w = TableWriter(b, LATENCY, META)
    w.append(_row("x", 2.0))
    w.append(_row("y", 3.0))
    merged = merge_tables([a, b])
    assert dict(zip(merged["key"], merged["latency_median_ms"])) == {_key("x"): 2.0, _key("y"): 3.0}


def _rows(path: Path) -> int:
    return max(0, len(path.read_text().splitlines()) - 1) if path.exists() else 0


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_measures_every_op_exactly_once(tmp_path):
    """`latbench profile` killed with SIGKILL resumes and ends with each op once."""
    table = tmp_path / "nb.csv"
    cmd = [
        sys.executable,
        "-m",
        "latbench",
        "profile",
        "nasbench201",
        "--size",
        "small",
        "--table",
        str(table),
        "--budget-ms",
        "10",
        "--warmup-ms",
        "2",
        "--threads",
        "1",
        "--rounds",
        "1",
    ]  # one row at a time (interleaved groups are written whole)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while _rows(table) < 5 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = _rows(table)
    expected = {s.key for s in get_space("nasbench201").ops("small")}
    assert 5 <= n_before < len(expected), "the kill should land mid-run"

    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    keys = read_table(table)["key"].tolist()
    assert sorted(keys) == sorted(expected)  # every op, each exactly once
    assert f"already in table {n_before}" in done.stdout.replace("\n", " ")


def test_a_table_without_the_drift_columns_is_read_and_upgraded_when_appended(tmp_path):
    path = tmp_path / "old.csv"
    writer = TableWriter(path, LATENCY, {})
    writer.append(_row("a", 1.0))
    old = [c for c in LATENCY.names if c not in LATENCY.added]
    lines = path.read_text().splitlines()  # rewrite as a table from before the drift columns
    keep = [LATENCY.names.index(c) for c in old]
    path.write_text("\n".join(",".join(line.split(",")[i] for i in keep) for line in lines) + "\n")
    df = read_table(path)
    assert df["drift"].isna().all() and df.loc[0, "latency_median_ms"] == 1.0
    TableWriter(path, LATENCY, {}).append({**_row("b", 2.0), "drift": 1.1})
    df = read_table(path)
    assert path.read_text().splitlines()[0].split(",") == LATENCY.names
    assert list(df["key"]) == [_key("a"), _key("b")] and df["drift"].tolist()[1] == 1.1
