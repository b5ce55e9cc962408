"""Table faults: a directory given as a table, a table of another schema, a header
cut mid-write, a UTF-8 byte-order mark (tables, side-cars, predictor and architecture files,
import-nets CSVs), a truncated .csv.gz: each one line naming the file, or accepted."""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from latbench.cli import main
from latbench.errors import LatbenchError, TableError
from latbench.predictors.data import op_data
from latbench.predictors.report import scatter_png
from latbench.tables import TableWriter, meta_path, read_table
from latbench.tables.schema import SCHEMAS

PROFILES = Path(__file__).parents[3] / "device_profiles" / "cpu-amd-epyc-1t"
META = {"fingerprint": {"slug": "cpu-test-1t"}, "protocol": {}, "protocol_id": "p"}


def _one_line(capsys, argv: list[str]) -> str:
    """The error line of a command that must fail before measuring (argparse: usage + it)."""
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and "Traceback" not in "\n".join(err), err
    assert all(line.startswith("usage:") or line.startswith(" ") for line in err[:-1]), err
    return err[-1]


def _copy(name: str, folder: Path) -> Path:
    shutil.copy(PROFILES / f"{name}.meta.json", folder / f"{name}.meta.json")
    return Path(shutil.copy(PROFILES / f"{name}.csv", folder / f"{name}.csv"))


def test_a_directory_as_table_is_named_as_one(tmp_path, capsys):
    for argv in (
        ["measure-nets", "nasbench201", "--n", "1", "--table", str(tmp_path)],
        ["profile", "nasbench201", "--size", "small", "--table", str(tmp_path)],
        ["memory", "dints", "--n", "1", "--table", str(tmp_path)],
    ):
        assert f"{tmp_path}: is a directory" in _one_line(capsys, argv)
    with pytest.raises(TableError, match="is a directory"):
        read_table(tmp_path)


def test_a_table_of_another_schema_names_both(tmp_path, capsys):
    ops = _copy("nasbench201-small", tmp_path)
    nets = tmp_path / "nets.networks.csv"
    TableWriter(nets, SCHEMAS["latbench.networks"], META)
    line = _one_line(
        capsys, ["measure-nets", "nasbench201", "--size", "small", "--n", "1", "--table", str(ops)]
    )
    assert "is a latbench.latency table" in line and "latbench.networks tables" in line
    line = _one_line(capsys, ["memory", "dints", "--n", "1", "--table", str(nets)])
    assert "is a latbench.networks table" in line and "latbench.memory tables" in line
    with pytest.raises(TableError, match="is a latbench.latency table.*latbench.networks"):
        read_table(ops, SCHEMAS["latbench.networks"])  # what the table runs read resumes with


def test_a_header_cut_mid_write_is_written_again(tmp_path):
    path = tmp_path / "t.csv"
    schema = SCHEMAS["latbench.latency"]
    TableWriter(path, schema, META)
    path.write_text(",".join(schema.names)[:25])  # killed while writing the header
    for _ in range(2):  # the first re-run recovers, and so does every later one
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            TableWriter(path, schema, META)
        assert read_table(path).empty
        assert path.read_text() == ",".join(schema.names) + "\n"


def _bom(path: Path) -> Path:
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return path


def test_a_byte_order_mark_is_accepted_in_tables_and_side_cars(tmp_path):
    table = _copy("nasbench201-small", tmp_path)
    before = read_table(table)
    _bom(table)
    _bom(meta_path(table))
    after = read_table(table)
    assert list(after.columns) == list(before.columns) and len(after) == len(before)
    TableWriter(table, SCHEMAS["latbench.latency"], after.attrs["meta"].thawed())  # resumable


def test_a_byte_order_mark_is_accepted_in_predictor_and_architecture_files(tmp_path):
    from latbench.archs import Architecture, sample_architectures
    from latbench.predictors.lookup import LookupPredictor
    from latbench.predictors.persist import load, save

    pred = tmp_path / "p.json"
    save(LookupPredictor().fit(*op_data(PROFILES / "nasbench201-small.csv").xy), pred)
    assert load(_bom(pred)).keys_
    arch = sample_architectures("nasbench201", 1, "small", seed=0)[0]
    path = tmp_path / "a.json"
    path.write_text(arch.to_json())
    assert Architecture.from_file(_bom(path)).genotype == arch.genotype


def test_import_nets_csv_with_a_byte_order_mark_and_a_truncated_gz(tmp_path):
    from latbench.importing import read_rows

    csv_path = tmp_path / "pub.csv"
    csv_path.write_text("arch_index,arch_str,gpu_1\n0,x,1.5\n")
    header, _ = read_rows(_bom(csv_path))
    assert header[0] == "arch_index"
    gz = tmp_path / "pub.csv.gz"
    gz.write_bytes(gzip.compress(("arch_index,arch_str,gpu_1\n" * 200).encode())[:60])
    with pytest.raises(LatbenchError, match="ends early"):
        read_rows(gz)


@pytest.mark.parametrize(
    "column, value, needle",
    [
        ("latency_median_ms", "{median_s}", "'latency_median_ms'"),  # seconds, not ms
        ("latency_min_ms", "{p99_x2}", "'latency_median_ms'"),  # min above the median
        ("latency_p99_ms", "{min}", "'latency_p99_ms'"),
        ("drift", "0", "'drift'"),
        ("latency_min_corrected_ms", "{p99_x2}", "latency_min_ms / drift"),
        ("n_samples", "0", "'n_samples'"),
        ("calls_per_sample", "2.5", "'calls_per_sample'"),
        ("timer", "cpu-sundial", "'timer'"),  # no latbench timer writes it
        ("n_samples", "1e17", "'n_samples': '1e17'; expected a finite number in [0, 1e+09]"),
    ],
)
def test_an_ok_row_whose_statistics_disagree_is_one_line(tmp_path, capsys, column, value, needle):
    """A statistic converted to other units or edited alone (an ok row's min above its
    median, a corrected column that is not its statistic / drift, 0 samples) is refused
    naming the line and field, not fitted on."""
    table = _copy("nasbench201-small", tmp_path)
    with open(table, newline="") as fh:
        rows = list(csv.reader(fh))
    row = read_table(table).iloc[0]
    numbers = {
        "median_s": str(float(row["latency_median_ms"]) / 1000),
        "p99_x2": str(float(row["latency_p99_ms"]) * 2),
        "min": str(float(row["latency_min_ms"])),
    }
    rows[1][rows[0].index(column)] = value.format(**numbers)
    with open(table, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    line = _one_line(capsys, ["fit", str(table), "-o", str(tmp_path / "p.json")])
    assert f"{table}: line 2, field {needle}" in line or ("line 2" in line and needle in line)
    assert not (tmp_path / "p.json").exists()


def test_the_timer_column_accepts_every_timer_latbench_writes():
    """``TIMERS`` is the set of names the CPU clocks and the CUDA timer write (a new clock
    must be added there, or its tables would be refused)."""
    from latbench.tables.checks import ENUMS, TIMERS
    from latbench.timing.cpu import CLOCKS, CpuSampler
    from latbench.timing.cuda import CudaEventSampler

    cuda = CudaEventSampler.name
    assert set(TIMERS) == {CpuSampler(c).name for c in CLOCKS} | {cuda, cuda + "+graph"}
    assert {"imported", ""} < set(ENUMS["timer"])


def test_op_params_are_the_keys_whatever_the_file_says(tmp_path, capsys):
    """The key is what was measured and what lookups match; a contradicting ``op_params``
    column (edited, or shifted by hand) is not read: ``show`` prints the key's parameters."""
    from latbench.opspec import OpSpec
    from latbench.tablerun.rows import spec_columns

    spec = OpSpec.make("conv", (1, 8, 8, 8), kernel=5)
    table = tmp_path / "t.csv"
    row = {**spec_columns(spec, features=False), "op_params": '{"kernel": 99}'}
    TableWriter(table, SCHEMAS["latbench.latency"], META).append(
        {**row, "status": "error", "source": "measured", "error": "x"}
    )
    assert json.loads(read_table(table)["op_params"][0])["kernel"] == 5
    capsys.readouterr()
    assert main(["show", str(table)]) == 0
    out = capsys.readouterr().out
    assert "kernel=5" in out and "99" not in out, out


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"foo": 1}, "unknown TrainConfig field 'foo'; expected optimizer, lr"),
        ({"lr": "fast"}, "TrainConfig field 'lr' is 'fast'; expected float or int"),
        ({"steps": True}, "TrainConfig field 'steps' is True; expected int"),
        ({"steps": 0}, "steps=0 and batch=None must be >= 1"),
    ],
)
def test_a_memory_row_whose_train_config_is_nonsense_is_one_line(tmp_path, capsys, change, needle):
    """`fit --kind memory` builds a TrainConfig from config_json: an unknown field was a
    TypeError traceback, a mistyped one failed later inside the traced training step."""
    table = _copy("memory-dints-small", tmp_path)
    rows = list(csv.DictReader(table.open()))
    rows[1]["config_json"] = json.dumps(json.loads(rows[1]["config_json"]) | change)
    with table.open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for argv in (
        ["fit", "--kind", "memory", str(table), "-o", str(tmp_path / "m.json")],
        ["memory", "dints:0:small", "--predict", "--calibrate", str(table)],
    ):
        err = _one_line(capsys, argv)
        assert err.startswith(f"latbench: error: {table}: line 3, field 'config_json': {needle}")


def test_a_json_file_named_as_a_table_is_named_as_one(tmp_path, capsys):
    """A predictor passed where a table goes was 'missing side-car P.json.meta.json'; a new
    --table P.json was written as a table called P.json."""
    predictor = tmp_path / "p.json"
    predictor.write_text("{}")
    what = "a JSON file (a predictor, an architecture or a side-car); expected a table CSV"
    for argv in (
        ["fit", str(predictor), "-o", str(tmp_path / "o.json")],
        ["evaluate", str(PROFILES / "nasbench201-paper.predictor.json"), str(predictor)],
        ["profile", "nasbench201", "--table", str(tmp_path / "new.json")],
        ["search", "hypersegnas", "--memory-table", str(predictor)],
    ):
        assert f": {what}" in _one_line(capsys, argv), argv
    with pytest.raises(TableError, match=re.escape(f"{predictor}: {what}")):
        read_table(predictor)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]


def test_search_memory_table_of_another_schema_is_refused_before_the_search(tmp_path, capsys):
    latency = _copy("msnas-small", tmp_path)
    err = _one_line(capsys, ["search", "hypersegnas", "--memory-table", str(latency)])
    assert "is a latbench.latency table (its side-car's schema)" in err


def test_no_output_replaces_a_table_or_its_side_car(tmp_path, capsys):
    """fit T -o T, predict --out T and evaluate --plot/--json T wrote over measured rows."""
    ops = _copy("nasbench201-paper", tmp_path)
    side = tmp_path / "nasbench201-paper.meta.json"
    predictor = str(PROFILES / "nasbench201-paper.predictor.json")
    sampled = ["--space", "nasbench201", "--n", "2"]
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    for argv, target, what in (
        (["fit", str(ops), "-o", str(ops)], ops, "a table; not replaced by a predictor"),
        (["fit", str(ops), "-o", str(side)], side, "the side-car of a table; not replaced by a"),
        (["predict", predictor, *sampled, "--out", str(ops)], ops, "a table; not replaced by"),
    ):
        assert f"{target}: is {what}" in _one_line(capsys, argv), argv
    with pytest.raises(TableError, match="is the side-car of a table; not replaced by a plot"):
        scatter_png(side, np.ones(2), {"p": np.ones(2)})
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before
