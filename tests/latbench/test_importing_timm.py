"""`latbench import-nets --format timm`: timm's published benchmark CSVs -> networks tables."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest
from public_data import TIMM_FEATURES, TIMM_FILES

from latbench.cli import main
from latbench.errors import LatbenchError
from latbench.importing import ImportRowError
from latbench.importing_timm import (
    TimmRow,
    changed_model,
    file_provenance,
    import_timm_file,
    read_timm,
)
from latbench.model_features import FEATURES, FeatureCache, timm_features
from latbench.predictors.data import network_data
from latbench.tables import read_meta, read_table

if importlib.util.find_spec("timm") is None:
    pytest.skip("timm is not installed (the 'models' extra)", allow_module_level=True)


def head(path: Path, n: int) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[: n + 1]


def subset(tmp_path: Path, column: str, extra: list[str] = (), n: int = 3) -> Path:
    """The header and first ``n`` rows (timm's tiny test_* models) of a shipped file, plus
    ``extra`` lines, under the shipped file's name (its name carries the provenance)."""
    src = TIMM_FILES[column]
    out = tmp_path / column / src.name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(head(src, n) + list(extra)) + "\n", encoding="utf-8")
    return out


def report_library(cache: Path) -> str:
    return read_table(
        cache.parent / "out" / "amp-nchw-pt240-cu124-rtx3090" / "timm-published.networks.csv"
    ).attrs["meta"]["provenance"]["features"]


def test_shipped_files_parse_and_step_time_is_ms_per_batch():
    for column, path in TIMM_FILES.items():
        rows = read_timm(path)
        assert len(rows) > 1400
        for r in rows:  # benchmark.py: step = 1000·elapsed/iters, rate = batch·iters/elapsed
            assert r.step_ms * r.samples_per_sec / (1000 * r.batch) == pytest.approx(1, abs=0.02)
        batches = {r.batch for r in rows}
        assert batches == {1} if column == "cpu" else (1024 in batches and len(batches) > 3)


def test_file_name_gives_the_provenance():
    gpu = file_provenance(TIMM_FILES["amp-nhwc"])
    assert (gpu["precision"], gpu["layout"], gpu["torch"], gpu["compiled"], gpu["device"]) == (
        "AMP (float16 autocast)",
        "NHWC (channels-last)",
        "2.4.0",
        "no (eager)",
        "rtx3090",
    )
    cpu = file_provenance(TIMM_FILES["cpu"])
    assert (cpu["dtype"], cpu["layout"], cpu["compiled"], cpu["backend"]) == (
        "float32",
        "NCHW",
        "torch.compile (inductor)",
        "cpu",
    )
    assert file_provenance(Path("mine.csv"))["device"] == "not stated"


@pytest.mark.parametrize(
    "line, field",
    [
        ("resnet18,224,abc,1.0,1,11.7,1.8,2.5", "infer_samples_per_sec"),
        ("resnet18,224,1000.0,1.0,0,11.7,1.8,2.5", "infer_batch_size"),
        (",224,1000.0,1.0,1,11.7,1.8,2.5", "model"),
        # 2 ms per batch of 1 is 500 images/s, not 1000
        ("resnet18,224,1000.0,2.0,1,11.7,1.8,2.5", "infer_step_time"),
        # optional columns: written as NaN / Infinity into arch_json, a table latbench's own
        # readers then refused ("Infinity is not a JSON number"); a word was dropped silently
        ("resnet18,224,1000.0,1.0,1,nan,1.8,2.5", "param_count"),
        ("resnet18,224,1000.0,1.0,1,11.7,1.8,inf", "infer_macts"),
        ("resnet18,224,1000.0,1.0,1,11.7,-1.8,2.5", "infer_gmacs"),
        ("resnet18,224,1000.0,1.0,1,11.7,n/a,2.5", "infer_gmacs"),
    ],
)
def test_a_bad_row_is_one_line_naming_file_line_and_field(tmp_path, line, field):
    path = subset(tmp_path, "cpu", [line])
    with pytest.raises(ImportRowError) as err:
        read_timm(path)
    text = str(err.value)
    assert "\n" not in text and str(path) in text and "line 5" in text and f"'{field}'" in text


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("model,infer_img_size\nresnet18,224\n")
    with pytest.raises(LatbenchError, match="no column 'infer_batch_size'"):
        read_timm(path)


@pytest.mark.slow  # imports timm (a few s) and builds two models on the meta device
def test_tiny_model_features_on_the_meta_device():
    f = timm_features("test_vit", 160)
    assert set(f) == set(FEATURES)
    assert f["params"] == pytest.approx(0.37e6, rel=0.02)  # timm's param_count: 0.37 M
    assert f["flops"] / 2e9 == pytest.approx(0.04, abs=0.006)  # infer_gmacs 0.04
    assert f["n_matmul"] > 0 and f["flops_attention"] > 0 and f["n_conv"] == 1  # patch embed
    cnn = timm_features("test_efficientnet", 160)
    assert cnn["n_dwconv"] > 0 and 0 < cnn["flops_dwconv"] < cnn["flops_conv"]
    with pytest.raises(LatbenchError, match="does not know model 'no_such_net'"):
        timm_features("no_such_net", 160)


@pytest.mark.slow
def test_import_skips_and_counts_unknown_names_and_caches_features(tmp_path, capsys):
    path = subset(tmp_path, "amp-nchw", ["no_such_net,224,1000.0,1024.0,1024,1.0,1.0,1.0"])
    out, cache = tmp_path / "out", tmp_path / "features.csv"
    assert (
        main(
            [
                "import-nets",
                "--format",
                "timm",
                str(path),
                "--out",
                str(out),
                "--features-cache",
                str(cache),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "3 of 4 rows" in printed and "skipped 1 model name(s)" in printed
    assert "no_such_net" in printed
    table = out / "amp-nchw-pt240-cu124-rtx3090" / "timm-published.networks.csv"
    meta = read_meta(table)
    prov = meta["provenance"]
    assert meta["source"] == "imported" and prov["skipped_unknown"] == ["no_such_net"]
    assert prov["layout"] == "NCHW" and prov["precision"].startswith("AMP")
    nets = network_data(table)
    names = [a.name for a in nets.archs]
    assert sorted(names) == ["test_byobnet", "test_efficientnet", "test_vit"]
    assert [(a.meta["batch"], a.meta["img_size"]) for a in nets.archs] == [(1024, 160)] * 3
    assert all(set(a.meta["features"]) == set(FEATURES) for a in nets.archs)
    assert nets.latency_ms[names.index("test_vit")] == 9.356  # infer_step_time, per batch
    assert "imported" in nets.provenance and "rtx3090" in nets.provenance
    assert len(FeatureCache(cache, report_library(cache)).rows) == 3

    def fail(name: str, size: int) -> dict[str, float]:  # the cache answers: never called
        raise AssertionError(f"recomputed {name}")

    other = subset(tmp_path, "cpu")
    report = import_timm_file(other, out, features_cache=cache, compute=fail)
    assert report.rows == 3 and not report.unknown
    row = json.loads(read_table(report.table)["arch_json"].iloc[0])
    assert row["meta"]["batch"] == 1 and row["meta"]["published"]["param_count"] > 0
    assert (
        main(
            [
                "import-nets",
                "--format",
                "timm",
                str(path),
                "--out",
                str(out),
                "--features-cache",
                str(cache),
            ]
        )
        == 2
    )
    assert "exists; pass --force" in capsys.readouterr().err
    assert (
        main(["import-nets", "--format", "timm", str(path), "--out", str(out), "--unit", "ms"]) == 2
    )
    assert "drop --unit" in capsys.readouterr().err


@pytest.mark.slow
def test_import_fit_evaluate_on_a_handful_of_models(tmp_path, capsys):
    """import-nets --format timm on 12 models of two columns (features from the shipped
    cache: nothing built), fit the CPU column from 8 shots with the GPU column as source,
    evaluate on the other models."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "timm-features.csv").write_bytes(TIMM_FEATURES.read_bytes())
    tables = {}
    for column in ("amp-nchw", "cpu"):
        path = subset(tmp_path, column, n=12)
        assert main(["import-nets", "--format", "timm", str(path), "--out", str(out)]) == 0
        tables[column] = next(
            (out / path.stem.removeprefix("benchmark-infer-")).glob("*.networks.csv")
        )
    assert "12 of 12 rows" in capsys.readouterr().out
    pred = tmp_path / "p.json"
    assert (
        main(
            [
                "fit",
                "--networks",
                str(tables["cpu"]),
                "--transfer-from",
                str(tables["amp-nchw"]),
                "--shots",
                "8",
                "-o",
                str(pred),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "8 shots drawn at random" in printed and "chose " in printed
    assert main(["evaluate", str(pred), str(tables["cpu"])]) == 0
    printed = capsys.readouterr().out
    assert "left out the 8 network(s)" in printed and "imported from" in printed
    assert "noise floor unknown (imported: one value per network)" in " ".join(printed.split())
    assert (
        main(
            [
                "fit",
                "--networks",
                str(tables["cpu"]),
                "--transfer-from",
                str(tables["amp-nchw"]),
                "--method",
                "opcost",
                "-o",
                str(pred),
            ]
        )
        == 2
    )
    assert "--method auto or loglinear" in capsys.readouterr().err


def test_a_model_timm_now_builds_differently_is_skipped_with_its_parameter_counts():
    """ecaresnext50t_32x4d: 15.41 M parameters published, 25.05 M in timm 1.0.31: the rows
    measured another network, and were paired with the new one's features."""
    row = TimmRow(2, "m", 224, 1, 5.0, 200.0, {"param_count": 15.41})
    assert changed_model(row, {"params": 25.05e6}, "timm 1.0.31") == (
        "15.41 M parameters published, 25.05 M in timm 1.0.31"
    )
    assert changed_model(row, {"params": 15.9e6}, "timm 1.0.31") == ""  # within 5 %
    assert changed_model(replace(row, published={}), {"params": 1.0}, "timm 1.0.31") == ""
