"""`latbench import-nets` of OFA-format rows (ks / e / d / r columns) into ofa-mbv3 tables."""

from __future__ import annotations

import gzip

import pytest

from latbench.archs.ofa_mbv3 import parse_genotype
from latbench.cli import main
from latbench.importing import ImportOptions, ImportRowError, import_networks
from latbench.tables.store import read_table

HEADER = "sample_index,ks,e,d,r,2080ti_1,2080ti_32\n"
ROWS = [
    "0,7-5-5-5-7-7-5-7-5-7-3-7-5-3-7-3-5-3-5-3,6-4-4-6-6-3-4-3-3-6-3-3-3-6-3-4-6-4-3-6,"
    "2-2-2-2-3,204,12.08,15.11\n",
    "1,7-3-5-3-3-7-3-7-3-7-3-7-3-7-7-3-5-5-7-3,4-6-3-4-4-4-4-6-3-6-6-4-4-6-6-4-3-6-6-4,"
    "2-3-4-3-4,136,12.66,13.58\n",
]


def _write(path, rows) -> None:  # noqa: ANN001
    with gzip.open(path, "wt") as f:
        f.write(HEADER + "".join(rows))


def test_ofa_rows_import_at_the_stated_batch(tmp_path) -> None:  # noqa: ANN001
    src = tmp_path / "ofa.csv.gz"
    _write(src, ROWS)
    assert (
        main(
            [
                "import-nets",
                str(src),
                "--space",
                "ofa-mbv3",
                "--columns",
                "2080ti_32",
                "--unit",
                "ms",
                "--batch",
                "32",
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    table = read_table(tmp_path / "out/2080ti_32/ofa-mbv3-paper.networks.csv")
    assert list(table["latency_median_ms"]) == [15.11, 13.58]
    assert set(table["source"]) == {"imported"}
    config = parse_genotype(table["genotype"][1])
    assert config.d == (2, 3, 4, 3, 4) and config.r == 136 and config.w == 1.2
    assert table["input_shape"][0].startswith("32x3x204x204")


def test_bad_ofa_row_names_file_row_and_column(tmp_path) -> None:  # noqa: ANN001
    src = tmp_path / "bad.csv.gz"
    _write(src, [ROWS[0], ROWS[1].replace(",136,", ",230,")])
    with pytest.raises(ImportRowError, match=r"row 3, column 'r'.*r=230"):
        import_networks(src, tmp_path / "out", ImportOptions(unit="ms", batch=1, space="ofa-mbv3"))
