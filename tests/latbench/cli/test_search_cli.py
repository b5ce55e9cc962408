"""``latbench search``: each paper's command end to end on CPU at small size, with saved
predictors fitted on the committed tables, and its one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from latbench.cli import main

PROFILES = Path(__file__).parents[3] / "device_profiles" / "cpu-amd-epyc-1t"


def _fit(table: str, out: Path, *extra: str) -> Path:
    assert main(["fit", str(PROFILES / table), "-o", str(out), *extra]) == 0
    return out


@pytest.fixture(scope="module")
def msnas_predictor(tmp_path_factory):
    return _fit("msnas-small.csv", tmp_path_factory.mktemp("p") / "msnas.json")


def test_missing_default_table_names_the_profile_command(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no device_profiles/ here
    assert main(["search", "cakes"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "`latbench profile cakes --size small --threads 1`" in err[0]
    assert "--profile-missing" in err[0]
    assert not (tmp_path / "device_profiles").exists()  # nothing profiled unasked


def test_missing_or_wrong_predictor_is_one_line(capsys, tmp_path, msnas_predictor):
    assert main(["search", "rtdnas", "--predictor", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "latbench fit" in err[0]
    assert main(["search", "hypersegnas", "--predictor", str(msnas_predictor)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fit --kind memory" in err[0]
    assert main(["search", "stnas", "--predictor", str(msnas_predictor)] * 1 +
                ["--predictor", str(msnas_predictor)] * 2) == 2
    assert "one per space" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("which", ["rtdnas", "ga"])
def test_rtdnas_and_ga_with_a_saved_predictor(which, msnas_predictor, capsys):
    assert main(["search", which, "--predictor", str(msnas_predictor), "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "GA decoding" in out and "distinct evaluations" in out
    if which == "rtdnas":
        assert "RT-DNAS cell genotype" in out and "~0" in out  # op~input genotype strings


@pytest.mark.slow
def test_cakes_with_a_saved_predictor(tmp_path, capsys):
    pred = _fit("cakes-small.csv", tmp_path / "cakes.json")
    assert main(["search", "cakes", "--predictor", str(pred), "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "β (latency): 1x1x3=" in out and "CAKES channels per sub-kernel" in out


@pytest.mark.slow
def test_stnas_with_one_predictor_per_space(tmp_path, capsys):
    enc = _fit("stnas-encoder-small.csv", tmp_path / "enc.json")
    dec = _fit("stnas-decoder-small.csv", tmp_path / "dec.json")
    assert main(["search", "stnas", "--predictor", str(enc), "--predictor", str(dec),
                 "--steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "ST-NAS encoder depth" in out and "ST-NAS decoder ops" in out
    assert "skip_connect" in out or "sep_conv_3x3" in out or "conv_" in out


def _small_memory_table(tmp_path: Path, rows: int) -> Path:
    src = PROFILES / "memory-dints-small.csv"
    dst = tmp_path / "memory-dints-small.csv"
    dst.write_text("".join(src.read_text().splitlines(keepends=True)[:rows + 1]))
    shutil.copy(src.with_suffix(".meta.json"), dst.with_suffix(".meta.json"))
    return dst


@pytest.mark.slow
def test_hypersegnas_end_to_end_fit_search_confirm(tmp_path, capsys):
    table = _small_memory_table(tmp_path, 3)
    pred = tmp_path / "memory.json"
    assert main(["fit", "--kind", "memory", str(table), "-o", str(pred)]) == 0
    doc = json.loads(pred.read_text())
    assert doc["class"] == "TrainingMemoryPredictor" and doc["device"] == "cpu-amd-epyc-1t"
    assert doc["fit_metrics"]["n_calibration"] == 3
    # a band wide enough to keep networks of the small space; confirm measures the top one
    confirmed = tmp_path / "confirm.csv"
    assert main(["search", "memory-filter", "--predictor", str(pred), "-n", "6",
                 "--target-mib", "25", "--band-mib", "20", "--confirm", "1",
                 "--memory-table", str(confirmed), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "kept" in out and "measured on cpu" in out
    from latbench.tables import read_table

    rows = read_table(confirmed)
    assert len(rows) == 1 and rows["source"].iloc[0] == "measured"
    assert rows["rss_growth_mib"].iloc[0] > 0
