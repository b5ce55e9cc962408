"""`latbench import-nets`: published whole-network latencies -> latbench.networks tables."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from public_data import NB201_PUBLIC as PUBLIC

from latbench.archs.nasbench201 import from_genotype
from latbench.cli import main
from latbench.errors import LatbenchError, TableError
from latbench.importing import ImportOptions, import_networks
from latbench.netprofile import arch_id, measure_architectures, read_architectures, read_networks
from latbench.predictors.data import network_data
from latbench.timing import TimingConfig, make_timer

A = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)
B = (
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
    "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
)
DEAD = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|"  # no path in -> out


def write_csv(
    path: Path, rows: list[list[str]], header=("arch_index", "arch_str", "gpu_1", "gpu_32")
) -> Path:
    text = "\n".join(",".join(r) for r in [list(header), *rows]) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "pub.csv.gz",
        [["0", A, "10.5", "120"], ["1", B, "8.25", "90"], ["2", DEAD, "0.01", "1.5"]],
    )


def table(out: Path, column: str, size: str = "small") -> Path:
    return out / column / f"nasbench201-{size}.networks.csv"


def test_import_writes_one_table_per_column_marked_imported(good, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(
            [
                "import-nets",
                str(good),
                "--unit",
                "ms",
                "--batch",
                "1",
                "--batch",
                "gpu_32=32",
                "--size",
                "small",
                "--out",
                str(out),
                "--origin",
                "example.org@abc",
                "--license",
                "MIT, (c) someone",
                "--measured-by",
                "the authors",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "disconnected cells dropped: 1" in printed
    one, many = read_networks(table(out, "gpu_1")), read_networks(table(out, "gpu_32"))
    assert list(one["latency_median_ms"]) == [10.5, 8.25]
    assert list(one["latency_min_ms"]) == [10.5, 8.25] and one["latency_std_ms"].isna().all()
    assert set(one["source"]) == {"imported"} and set(one["timer"]) == {"imported"}
    assert all(p.startswith("imported-") for p in one["protocol_id"])
    prov = one.attrs["meta"]["provenance"]
    assert prov["source"] == "imported" and prov["origin"] == "example.org@abc"
    assert prov["license"] == "MIT, (c) someone" and prov["measured_by"] == "the authors"
    assert prov["unit"] == "ms" and prov["batch"] == 1 and prov["per"] == "batch"
    assert many.attrs["meta"]["provenance"]["batch"] == 32
    assert one.attrs["meta"]["fingerprint"]["slug"] == "gpu_1"
    archs = read_architectures(one)
    assert archs == [from_genotype(A, size="small"), from_genotype(B, size="small")]
    assert list(one["arch_id"]) == [arch_id(a) for a in archs]
    assert [a.input_shape[0] for a in read_architectures(many)] == [32, 32]


def test_units_and_per_image_become_ms_per_batch(good, tmp_path):
    out = tmp_path / "out"
    options = ImportOptions(unit="us", batch=4, per="image", size="small", columns=("gpu_1",))
    import_networks(good, out, options)
    df = read_networks(table(out, "gpu_1"))
    assert list(df["latency_median_ms"]) == pytest.approx([10.5e-3 * 4, 8.25e-3 * 4])
    assert "x 0.004" in df.attrs["meta"]["provenance"]["conversion"]


def test_disconnected_cells_kept_are_flagged(good, tmp_path):
    options = ImportOptions(unit="ms", batch=1, size="small", disconnected="keep")
    report = import_networks(good, tmp_path, options)
    assert report.disconnected == 1 and report.rows["gpu_1"] == 3
    archs = read_architectures(read_networks(table(tmp_path, "gpu_1")))
    assert [a.meta["connected"] for a in archs] == [True, True, False]


@pytest.mark.parametrize(
    "row, column, fragment",
    [
        (["0", A, "", "1"], "gpu_1", "missing value"),
        (["0", A, "fast", "1"], "gpu_1", "non-numeric value 'fast'"),
        (["0", A, "nan", "1"], "gpu_1", "non-numeric value 'nan'"),
        (["0", A, "2", "-3"], "gpu_32", "negative or zero latency '-3'"),
        (["0", A, "0", "3"], "gpu_1", "negative or zero latency '0'"),
        (
            ["0", A.replace("avg_pool_3x3", "max_pool_3x3"), "2", "3"],
            "arch_str",
            "unknown op 'max_pool_3x3'",
        ),
        (["0", A.replace("+", "|", 1), "2", "3"], "arch_str", "malformed genotype"),
        (["0", "", "2", "3"], "arch_str", "missing value"),
    ],
)
def test_each_bad_value_is_one_line_naming_file_row_and_column(
    tmp_path, capsys, row, column, fragment
):
    path = write_csv(tmp_path / "bad.csv", [["5", B, "1", "2"], row])
    out = tmp_path / "out"
    assert (
        main(
            [
                "import-nets",
                str(path),
                "--unit",
                "ms",
                "--batch",
                "1",
                "--size",
                "small",
                "--out",
                str(out),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("latbench: error: ")
    assert f"{path}: row 3, column {column!r}" in err and fragment in err
    assert not out.exists()  # nothing written when a value is bad


def test_skip_bad_skips_and_reports(tmp_path, capsys):
    path = write_csv(
        tmp_path / "bad.csv", [["0", A, "1", "x"], ["1", "|oops|", "2", "3"], ["2", B, "-1", "4"]]
    )
    out = tmp_path / "out"
    assert (
        main(
            [
                "import-nets",
                str(path),
                "--unit",
                "ms",
                "--batch",
                "1",
                "--size",
                "small",
                "--out",
                str(out),
                "--skip-bad",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "skipped (--skip-bad): 3" in printed
    assert "malformed genotype: 1" in printed and "non-numeric value: 1" in printed
    assert "row 3, column 'arch_str'" in printed
    assert list(read_networks(table(out, "gpu_1"))["genotype"]) == [A]
    assert list(read_networks(table(out, "gpu_32"))["genotype"]) == [B]


def test_usage_errors(good, tmp_path, capsys):
    out = str(tmp_path / "out")
    with pytest.raises(SystemExit):  # unit and batch must be stated
        main(["import-nets", str(good), "--batch", "1", "--out", out])
    base = ["import-nets", str(good), "--unit", "ms", "--size", "small", "--out", out]
    assert main(base + ["--batch", "1", "--columns", "gpu_2"]) == 2
    assert "not among the file's latency columns: gpu_1, gpu_32" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a list of no column: was every column
        main(base + ["--batch", "1", "--columns", ", "])
    assert "--columns ', ' names no column" in capsys.readouterr().err
    assert not Path(out).exists()
    assert main(base + ["--batch", "gpu_1=1"]) == 2
    assert "no batch size for column 'gpu_32'" in capsys.readouterr().err
    assert main(base + ["--batch", "1"]) == 0
    assert main(base + ["--batch", "1"]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert main(base + ["--batch", "1", "--force", "--classes", "120"]) == 0
    assert read_architectures(table(Path(out), "gpu_1"))[0].input_shape == (1, 3, 16, 16)
    nohead = write_csv(tmp_path / "x.csv", [["1", "2"]], header=("a", "b"))
    assert main(["import-nets", str(nohead), "--unit", "ms", "--batch", "1", "--out", out]) == 2
    assert "no architecture column" in capsys.readouterr().err


def test_measuring_never_appends_to_an_imported_table(good, tmp_path):
    import_networks(good, tmp_path, ImportOptions(unit="ms", batch=1, size="small"))
    timer = make_timer("cpu", TimingConfig(warmup_ms=1, budget_ms=2), threads=1)
    with pytest.raises(TableError, match="holds imported rows"):
        measure_architectures([from_genotype(A, size="small")], table(tmp_path, "gpu_1"), timer)


@pytest.mark.slow
def test_public_file_column_imports_and_reads_back(tmp_path):
    report = import_networks(
        PUBLIC, tmp_path, ImportOptions(unit="ms", batch=1, columns=("1080ti_1",))
    )
    assert report.rows == {"1080ti_1": 15625 - 341} and report.disconnected == 341
    path = table(tmp_path, "1080ti_1", "paper")
    assert path.stat().st_size < 12e6  # genotype + build meta per row, not 8 KB of edges
    df = read_networks(path)
    assert json.loads(df["arch_json"][0])["meta"]["size"] == "paper"
    assert read_architectures(df.head(50))[0] == from_genotype(df["genotype"][0])


def test_provenance_line_tells_imported_from_measured(good, tmp_path):
    from latbench.importing import provenance_line

    import_networks(
        good, tmp_path, ImportOptions(unit="ms", batch=1, size="small", origin="example.org")
    )
    line = provenance_line(read_networks(table(tmp_path, "gpu_1")).attrs["meta"])
    assert line.startswith("imported from example.org (column gpu_1, ms per batch of 1")
    assert provenance_line({"fingerprint": {"slug": "cpu-x"}}) == "measured here on cpu-x"


def test_arch_column_names_the_genotype_column(tmp_path, capsys):
    path = write_csv(
        tmp_path / "brp.csv",
        [["0", A, "3", "4"], ["1", "|bad|", "3", "4"]],
        header=("index", "genotype", "gpu_1", "gpu_32"),
    )
    out = str(tmp_path / "out")
    base = [
        "import-nets",
        str(path),
        "--unit",
        "us",
        "--batch",
        "1",
        "--size",
        "small",
        "--out",
        out,
        "--arch-column",
        "genotype",
    ]
    assert main(base) == 2
    assert "row 3, column 'genotype': malformed genotype" in capsys.readouterr().err
    assert main(base + ["--skip-bad"]) == 0
    assert list(read_networks(table(Path(out), "gpu_1"))["latency_median_ms"]) == [0.003]
    # an architecture twice: one table row per network (readers refuse a key written twice;
    # the import kept both rows, 'readers use the last one', and no reader took the table)
    twice = write_csv(tmp_path / "twice.csv", [["0", A, "3", "4"], ["1", A, "5", "6"]])
    again = ["import-nets", str(twice), "--unit", "ms", "--batch", "1", "--size", "small"]
    capsys.readouterr()
    assert main([*again, "--out", str(tmp_path / "o2")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"latbench: error: {twice}: row 3, column 'arch_str': repeated: the architecture of "
        "row 2 again"
    ]
    assert main([*again, "--out", str(tmp_path / "o3"), "--skip-bad"]) == 0
    kept = network_data(table(tmp_path / "o3", "gpu_1"))  # what fit and evaluate read
    assert list(kept.latency_ms) == [3.0]


@pytest.mark.parametrize(
    "value, unit, per, kind",
    [
        ("1e306", "s", "batch", "outside the physical range"),  # was written as inf
        ("1e-321", "us", "batch", "outside the physical range"),  # was written as 0.0
        ("1e308", "ms", "image", "outside the physical range"),  # x batch 32 overflows
        ("1e-7", "ms", "batch", "outside the physical range"),  # under a nanosecond
    ],
)
def test_values_at_the_edges_of_float_range_and_units_are_refused(tmp_path, value, unit, per, kind):
    src = write_csv(tmp_path / "pub.csv", [["0", A, value, "1"], ["1", B, "8.25", "9"]])
    opts = ImportOptions(unit=unit, batch=32, per=per, size="small")
    with pytest.raises(LatbenchError, match=f"row 2, column 'gpu_1': {kind}"):
        import_networks(src, tmp_path / "out", opts)
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize(
    "header, clash",
    [
        (("arch_index", "arch_str", "GPU 1", "gpu-1"), "'GPU 1', 'gpu-1'"),
        (("arch_index", "arch_str", "1080TI_1", "1080ti_1"), "'1080TI_1', '1080ti_1'"),
    ],
)
def test_columns_that_share_a_device_folder_are_refused(tmp_path, header, clash):
    src = write_csv(tmp_path / "pub.csv", [["0", A, "1.5", "2.5"]], header=header)
    with pytest.raises(LatbenchError, match=f"columns {clash} would both be device folder"):
        import_networks(src, tmp_path / "out", ImportOptions(unit="ms", batch=1, size="small"))


def test_a_header_naming_a_column_twice_is_refused(tmp_path):
    src = write_csv(
        tmp_path / "pub.csv",
        [["0", A, "1.5", "2.5"]],
        header=("arch_index", "arch_str", "gpu_1", "gpu_1"),
    )
    with pytest.raises(LatbenchError, match="column 'gpu_1' appears 2 times in the header"):
        import_networks(src, tmp_path / "out", ImportOptions(unit="ms", batch=1, size="small"))


def test_a_missing_file_is_named_before_the_options_are_checked(tmp_path, capsys):
    from latbench.cli import main

    assert (
        main(
            [
                "import-nets",
                str(tmp_path / "nosuch.csv.gz"),
                "--unit",
                "ms",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"latbench: error: {tmp_path / 'nosuch.csv.gz'}: no such file"]


@pytest.mark.parametrize("fmt", ["columns", "timm"])
@pytest.mark.parametrize(
    "data, needle",
    [
        (
            b"\xff\xfeMIT",
            "license file: not UTF-8 text (byte b'\\xff' at offset 0); expected UTF-8 text",
        ),
        (b" \n", "license file is empty; expected the notice"),
    ],
)
def test_a_license_file_not_utf8_or_empty_is_named(good, tmp_path, capsys, fmt, data, needle):
    """Not UTF-8 was 'input: not UTF-8 text' (no file named); an empty one imported with the
    note that no license was given. Nothing is written either way."""
    lic = tmp_path / "LICENSE"
    lic.write_bytes(data)
    out = tmp_path / "out"
    argv = [
        "import-nets",
        str(good),
        "--format",
        fmt,
        "--out",
        str(out),
        "--license-file",
        str(lic),
    ]
    assert main(argv + (["--unit", "ms", "--batch", "1"] if fmt == "columns" else [])) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"latbench: error: {lic}: {needle}"]
    assert not out.exists()
