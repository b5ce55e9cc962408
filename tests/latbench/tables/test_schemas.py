"""Every file kind is read through its own schema, called by its reader: what a reader
accepts does not depend on what was imported before, and a file that parses but breaks its
schema is one ``latbench: error: <file>: field ...`` line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import latbench
from latbench.archs import Architecture, sample_architectures
from latbench.cli import main
from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.persist import save
from latbench.tables import LATENCY, TableWriter, meta_path, read_table

PROFILE = Path(__file__).parents[3] / "device_profiles" / "cpu-amd-epyc-1t"

META = {"fingerprint": {"slug": "cpu-test-1t"}, "protocol": {}, "protocol_id": "p"}
BAD_KEY = "conv|kernel=[|1x16x32x32|float32|infer"
READ = (
    "from latbench.errors import TableError\n"
    "from latbench.tables import read_table\n"
    "try:\n"
    "    read_table({path!r})\n"
    "    print('accepted')\n"
    "except TableError as exc:\n"
    "    print(exc)\n"
)


def test_a_key_is_refused_whether_or_not_opspec_was_imported_first(tmp_path):
    table = tmp_path / "t.csv"
    TableWriter(table, LATENCY, META).append(
        {"key": BAD_KEY, "status": "error", "source": "measured", "error": "x"}
    )
    outputs = []
    for first in ("", "import latbench.opspec, latbench.archs\n"):
        code = first + READ.format(path=str(table))
        run = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(Path(latbench.__file__).parents[1])},
        )
        outputs.append(run.stdout.strip())
    assert outputs[0] == outputs[1], outputs
    assert outputs[0].startswith(f"{table}: line 2, field 'key': bad value for 'kernel'"), outputs


def _error_line(capsys, argv: list[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_the_table_reader_checks_the_side_car_schema(tmp_path, capsys):
    table = tmp_path / "t.csv"
    TableWriter(table, LATENCY, META)
    meta = json.loads(meta_path(table).read_text())
    meta["schema_version"] = 2
    meta_path(table).write_text(json.dumps(meta))
    assert _error_line(capsys, ["show", str(table)]) == (
        f"latbench: error: {meta_path(table)}: field 'schema_version' is 2; expected 1 "
        "(this latbench reads latbench.latency v1)"
    )


def test_a_side_car_size_that_is_no_size_is_refused(tmp_path, capsys):
    """A fit on it saved ``sizes: {space: ["huge"]}``; predict then failed naming neither
    file."""
    table = tmp_path / "t.csv"
    TableWriter(table, LATENCY, {**META, "space": "nasbench201", "size": "huge"})
    assert _error_line(capsys, ["show", str(table)]) == (
        f"latbench: error: {meta_path(table)}: field 'size' is 'huge'; expected 'small', "
        "'paper' or ''"
    )


def test_the_predictor_reader_checks_the_file_schema(tmp_path, capsys):
    from latbench.predictors.data import op_data
    from tests.predictors.test_persist_damaged import rechecksum

    lookup = LookupPredictor().fit(*op_data(PROFILE / "nasbench201-small.csv").xy)
    path = save(lookup, tmp_path / "p.json")
    doc = json.loads(path.read_text())
    doc["drift_reference"] = {"nominal_ms": -1.0, "reference": "r"}
    path.write_text(rechecksum(doc))
    key = OpSpec.from_key(doc["state"]["keys"][0]).key
    assert _error_line(capsys, ["predict", str(path), "--key", key]) == (
        f"latbench: error: {path}: damaged: field 'drift_reference.nominal_ms' is -1.0; "
        "expected a value >= 0"
    )


def test_the_architecture_reader_checks_the_file_schema(tmp_path):
    arch = sample_architectures("nasbench201", 1, "small", seed=1)[0]
    path = tmp_path / "a.json"
    doc = arch.to_dict()
    doc["edges"][0]["src"] = [0]
    path.write_text(json.dumps(doc))
    with pytest.raises(LatbenchError) as err:
        Architecture.from_file(path)
    assert str(err.value) == f"{path}: field 'edges[0].src[0]' is an int; expected a string"
    path.write_text(arch.to_json())
    assert Architecture.from_file(path) == arch


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("threads", -4, "a value >= 1"),
        ("threads", 0, "a value >= 1"),
        ("budget_ms", -1.0, "a value > 0"),
        ("warmup_ms", -50.0, "a value >= 0"),
        ("rounds", -2, "a value >= 1"),
        ("timer", "cpu-sundial", "'cpu-thread_time_ns', "),
        ("clock", "sundial", "'thread_time_ns' or 'perf_counter_ns'"),
    ],
)
def test_a_side_car_protocol_that_is_nonsense_is_refused(tmp_path, field, value, expected):
    table = tmp_path / "t.csv"
    TableWriter(table, LATENCY, {**META, "protocol": {"threads": 1, field: value}})
    with pytest.raises(LatbenchError) as exc:
        read_table(table)
    assert str(exc.value).startswith(
        f"{meta_path(table)}: field 'protocol.{field}' is {value!r}; expected {expected}"
    ), exc.value
