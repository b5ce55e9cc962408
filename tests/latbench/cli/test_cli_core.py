"""The `latbench` command: subcommands run, bad input gives one clear line and exit code 2."""

from __future__ import annotations

import time

import pytest

from latbench.cli import main
from latbench.tables import meta_path


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_unknown_space_is_one_line_naming_valid_spaces(capsys):
    assert main(["profile", "no-such-space"]) == 2
    line = _error_line(capsys)
    assert "unknown space 'no-such-space'" in line and "nasbench201" in line


def test_unknown_op_kind_is_one_line_naming_valid_kinds(capsys):
    assert main(["ops", "convv"]) == 2
    line = _error_line(capsys)
    assert "unknown op kind 'convv'" in line and "sepconv" in line


def test_malformed_table_is_one_line_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("key,latency\nx,1\n")
    meta_path(bad).write_text("[]")
    assert main(["show", str(bad)]) == 2
    line = _error_line(capsys)
    assert "bad.meta.json" in line and "JSON object" in line


def test_unknown_device_is_one_line(capsys):
    assert main(["profile", "nasbench201", "--device", "tpu"]) == 2
    assert "no timer for device 'tpu'" in _error_line(capsys)


def test_listing_commands_run(capsys):
    for argv in (["spaces"], ["ops"], ["ops", "conv*"], ["devices"]):
        assert main(argv) == 0
    out = capsys.readouterr().out
    assert "nasbench201" in out and "sepconv" in out and "cpu" in out


@pytest.mark.slow
def test_profile_then_show(tmp_path, capsys):
    table = tmp_path / "t.csv"
    assert (
        main(
            [
                "profile",
                "nasbench201",
                "--size",
                "small",
                "--table",
                str(table),
                "--budget-ms",
                "3",
                "--warmup-ms",
                "1",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    assert "measured 25" in capsys.readouterr().out.replace("\n", " ")
    assert main(["show", str(table), "--sort", "latency_median_ms", "--csv"]) == 0
    assert capsys.readouterr().out.count("\n") == 26


def test_no_subcommand_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_show_reads_a_networks_table(tmp_path, capsys):
    table = tmp_path / "nets.csv"
    assert (
        main(
            [
                "measure-nets",
                "nasbench201",
                "--size",
                "small",
                "--n",
                "2",
                "--table",
                str(table),
                "--budget-ms",
                "5",
                "--warmup-ms",
                "1",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["show", str(table)]) == 0
    out = capsys.readouterr().out
    assert "latbench.networks" in out and "2 rows" in out


def test_measure_nets_notes_the_spaces_a_table_already_holds(tmp_path, capsys):
    """A networks table may hold several spaces: adding another is done, with one note."""
    from latbench.archs import sample_architectures
    from latbench.cli.measure_nets import other_spaces_note
    from latbench.device import fingerprint
    from latbench.netprofile import NETWORKS, arch_columns
    from latbench.tables import TableWriter, read_table

    table = tmp_path / "nets.csv"
    (arch,) = sample_architectures("nasbench201", 1, "small", 0)
    TableWriter(table, NETWORKS, {"fingerprint": fingerprint("cpu", threads=1)}).append(
        {
            **arch_columns(arch, "small"),
            "repeat": 1,
            "status": "ok",
            "source": "measured",
            "protocol_id": "p",
            "latency_median_ms": 1.0,
        }
    )
    assert other_spaces_note(table, "nasbench201") == ""  # same space: no note
    assert (
        main(
            [
                "measure-nets",
                "msnas",
                "--size",
                "small",
                "--n",
                "1",
                "--table",
                str(table),
                "--budget-ms",
                "5",
                "--warmup-ms",
                "1",
                "--threads",
                "1",
                "--rounds",
                "1",
                "--no-reference",
            ]
        )
        == 0
    )
    out = " ".join(capsys.readouterr().out.split())
    assert "already holds networks of nasbench201; this run adds msnas networks" in out
    assert sorted(read_table(table)["space"]) == ["msnas", "nasbench201"]


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "hypersegnas", "--n", "50"],  # was taken for --n-paths 50
        ["profile", "nasbench201", "--budget", "5"],  # was --budget-ms 5
        ["search", "rtdnas", "--predictor", "p.json", "--upper", "40"],  # was --upper-ms 40
    ],
)
def test_options_must_be_spelt_out(argv, capsys):
    from latbench.cli.commands import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_an_interrupt_names_the_table_it_stopped_writing(monkeypatch, capsys):
    from latbench.cli import commands

    def interrupted(argv):
        stop = KeyboardInterrupt()
        stop.add_note("2 row(s) of this run in t.csv; a re-run resumes")
        raise stop

    monkeypatch.setattr(commands, "dispatch", interrupted)
    assert main(["profile", "nasbench201"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "latbench: interrupted; every row written so far is kept; 2 row(s) of this run in t.csv; "
        "a re-run resumes"
    ]


def test_ctrl_c_that_a_library_turns_into_another_error_is_still_ctrl_c(monkeypatch, capsys):
    """numpy's import, interrupted in its C code, raises ImportError('PyCapsule_Import could
    not import module "datetime"'): that was a traceback of three chained errors."""
    import os
    import signal

    from latbench.cli import commands

    def converted(argv):
        try:
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs before the next line
            time.sleep(1)
        except KeyboardInterrupt:
            raise ImportError("PyCapsule_Import could not import module datetime") from None

    def failed(argv):
        raise ImportError("no module named x")

    monkeypatch.setattr(commands, "dispatch", converted)
    assert main(["show", "t.csv"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == ["latbench: interrupted"]
    monkeypatch.setattr(commands, "dispatch", failed)
    with pytest.raises(ImportError):  # the same error without a Ctrl-C is not hidden
        main(["show", "t.csv"])


def test_an_interrupt_outside_a_table_run_claims_no_rows(monkeypatch, capsys):
    """A search or a fit writes no rows: its Ctrl-C line says only that it was interrupted."""
    from latbench.cli import commands

    def interrupted(argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "dispatch", interrupted)
    assert main(["search", "rtdnas"]) == 130
    assert capsys.readouterr().err.strip().splitlines() == ["latbench: interrupted"]
