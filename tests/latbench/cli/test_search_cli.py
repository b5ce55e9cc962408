"""``latbench search``: each paper's command end to end on CPU at small size, with saved
predictors fitted on the committed tables, and its one-line errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from latbench.architecture import Architecture
from latbench.cli import main
from latbench.predictors.data import op_data

PROFILES = Path(__file__).parents[3] / "device_profiles" / "cpu-amd-epyc-1t"


def _fit(table: str, out: Path, *extra: str) -> Path:
    assert main(["fit", str(PROFILES / table), "-o", str(out), *extra]) == 0
    return out


@pytest.fixture(scope="module")
def msnas_predictor(tmp_path_factory):
    return _fit("msnas-small.csv", tmp_path_factory.mktemp("p") / "msnas.json")


def test_missing_default_table_names_the_profile_command(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no reference tables (device_profiles/) nor a tables home here
    monkeypatch.delenv("LATBENCH_HOME", raising=False)
    assert main(["search", "cakes"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "`latbench profile cakes --size small --threads 1`" in err[0]
    assert "--profile-missing" in err[0]
    assert not any(tmp_path.iterdir())  # nothing profiled, nothing written unasked


def test_missing_predictor_file_is_one_line_naming_fit(capsys, tmp_path):
    assert main(["search", "rtdnas", "--predictor", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "latbench fit" in err[0]
    assert main(["search", "hypersegnas"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fit --kind memory" in err[0]


@pytest.mark.slow
def test_wrong_predictor_kind_or_count_is_one_line(capsys, msnas_predictor):
    assert main(["search", "hypersegnas", "--predictor", str(msnas_predictor)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fit --kind memory" in err[0]
    assert main(["search", "stnas"] + ["--predictor", str(msnas_predictor)] * 3) == 2
    assert "one per space" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("which", ["rtdnas", "ga"])
def test_rtdnas_and_ga_with_a_saved_predictor(which, msnas_predictor, capsys):
    assert main(["search", which, "--predictor", str(msnas_predictor), "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "GA decoding" in out and "distinct evaluations" in out
    if which == "rtdnas":
        assert "RT-DNAS cell genotype" in out and "~0" in out  # op~input genotype strings
    assert "≥ 22 FPS" in out


def test_the_ga_takes_its_fps_floor_from_the_command_line(msnas_predictor, capsys):
    """22 FPS judged as 1000 / latency binds at 45.45 ms, under the 50 ms bound; the paper's
    search uses the latency bound alone, which --min-fps 0 gives."""
    cmd = ["search", "ga", "--predictor", str(msnas_predictor), "--min-fps", "0"]
    assert main(cmd) == 0
    assert "≥ 0 FPS" in capsys.readouterr().out


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
    assert (
        main(["search", "stnas", "--predictor", str(enc), "--predictor", str(dec), "--steps", "1"])
        == 0
    )
    out = capsys.readouterr().out
    assert "ST-NAS encoder depth" in out and "ST-NAS decoder ops" in out
    assert "skip_connect" in out or "sep_conv_3x3" in out or "conv_" in out
    # the printed validate command runs, timing the encoder depths found
    (command,) = [line.split() for line in out.splitlines() if "latbench validate" in line]
    assert command[:5] == ["latbench", "validate", "stnas-decoder:0:small", "--protocol", "stnas"]
    assert command[5] == "--encoder-depths" and re.fullmatch(r"\d,\d,\d,\d", command[6])
    extra = ["--n-frames", "2", "--out", str(tmp_path), "--json"]
    assert main(command[1:] + extra) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert f"encoder blocks per stage {command[6]} (--encoder-depths" in notes[0]


@pytest.mark.slow
def test_stnas_writes_the_searched_decoder_and_validate_times_it(tmp_path, capsys):
    """--out writes each λ run's decoder ops as an Architecture with its encoder's depths;
    the printed validate command times exactly that network."""
    enc = _fit("stnas-encoder-small.csv", tmp_path / "enc.json")
    dec = _fit("stnas-decoder-small.csv", tmp_path / "dec.json")
    out = tmp_path / "chosen"
    cmd = ["search", "stnas", "--predictor", str(enc), "--predictor", str(dec), "--steps", "1"]
    assert main([*cmd, "--lam", "0.01", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["stnas-lam0.01.json", "stnas-lam0.json"]
    arch = Architecture.from_file(out / "stnas-lam0.01.json")
    (depths,) = re.findall(r"encoder depth.*?\n.*?0\.01\s*│\s*\[([\d, ]+)\]", printed, re.S)
    assert arch.meta["encoder_depths"] == [int(d) for d in depths.split(",")]
    lines = printed.splitlines()
    (command,) = [line.split() for line in lines if line.strip().startswith("latbench validate")]
    assert command[2] == str(out / "stnas-lam0.01.json")
    assert "2 architecture(s) in" in printed
    assert main([*command[1:], "--n-frames", "2", "--out", str(tmp_path), "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert f"encoder blocks per stage {depths.replace(' ', '')} (" in notes[0]


def test_a_search_that_chooses_no_network_says_so_with_out(msnas_predictor, tmp_path, capsys):
    out = tmp_path / "chosen"
    assert main(["search", "ga", "--predictor", str(msnas_predictor), "--out", str(out)]) == 0
    assert "search ga gives no architecture to write" in capsys.readouterr().out
    assert not out.exists()


def _small_memory_table(tmp_path: Path, rows: int) -> Path:
    src = PROFILES / "memory-dints-small.csv"
    dst = tmp_path / "memory-dints-small.csv"
    dst.write_text("".join(src.read_text().splitlines(keepends=True)[: rows + 1]))
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
    assert (
        main(
            [
                "search",
                "memory-filter",
                "--predictor",
                str(pred),
                "-n",
                "6",
                "--target-mib",
                "25",
                "--band-mib",
                "20",
                "--confirm",
                "1",
                "--memory-table",
                str(confirmed),
                "--threads",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "kept" in out and "measured on cpu" in out
    from latbench.tables import read_table

    rows = read_table(confirmed)
    assert len(rows) == 1 and rows["source"].iloc[0] == "measured"
    assert rows["rss_growth_mib"].iloc[0] > 0


@pytest.mark.slow
def test_profile_missing_runs_the_profile_command_with_its_protocol(capsys, monkeypatch, tmp_path):
    """--profile-missing runs `latbench profile` itself (its parser, defaults and default
    path); here its measuring is replaced by the committed table to keep the test short."""
    from latbench.cli import profile
    from latbench.tablerun.paths import default_table_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LATBENCH_HOME", raising=False)
    seen = []

    def fake_run(args):  # noqa: ANN001
        seen.append(args)
        slug = Path(PROFILES).name
        path = default_table_path(slug, f"{args.space}-{args.size}", args.out)
        path.parent.mkdir(parents=True)
        shutil.copy(PROFILES / "cakes-small.csv", path)
        shutil.copy(PROFILES / "cakes-small.meta.json", path.with_suffix(".meta.json"))
        return 0

    monkeypatch.setattr(profile, "run", fake_run)
    monkeypatch.setattr(
        "latbench.device.fingerprint", lambda device, threads=None: {"slug": Path(PROFILES).name}
    )
    assert main(["search", "cakes", "--profile-missing", "--steps", "1"]) == 0
    (args,) = seen
    assert (args.space, args.size, args.threads) == ("cakes", "small", 1)
    assert args.budget_ms == 1000.0 and args.warmup_ms == 50.0  # `latbench profile`'s defaults
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "running `latbench profile cakes --size small --threads 1`" in out


def test_hypersegnas_says_why_nothing_was_kept(monkeypatch, capsys):
    """The paper's 5067 MiB target keeps nothing of small-size networks (tens of MiB): one
    line names the band, the samples' predicted range and the options that move the band."""
    from latbench.cli import search

    class TensOfMiB:
        unit = "MiB"

        def predict(self, archs):  # noqa: ANN001, ANN202
            return np.linspace(20.0, 30.0, len(archs))

    monkeypatch.setattr(search, "_memory_model", lambda args: TensOfMiB())
    assert main(["search", "hypersegnas", "--size", "small", "-n", "5"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "kept 0/5" in out
    assert (
        "hint: kept 0/5: the band 4767 to 5367 MiB lies above every sample, whose predicted "
        "memory is 20-30 MiB (median 25) at size small"
    ) in out
    assert "--target-mib" in out and "--band-mib" in out


@pytest.fixture
def probe_search(request):
    """A search registered as a plugin would (``register_search``), removed afterwards."""
    from latbench.nas import searches
    from latbench.nas.synthetic import Outcome

    seen: dict = {}
    latency = {"ms": 1.5}

    class Result:
        note = "probe: synthetic"

        def __init__(self):
            self.runs = [Outcome(0.0, [0], 2.0, 0.2), Outcome(1.0, [1], latency["ms"], 0.1)]

        def genotype(self, run):
            return f"g{run.choice[0]}"

    def probe(model, space, size, lam, steps, seed, progress):
        seen.update(space=space, size=size, lam=lam, steps=steps, unit=model.unit)
        return Result()

    searches.register_search("test-probe", probe, space="msnas", default_lambda=3.0)
    request.addfinalizer(lambda: searches._SEARCHES.pop("test-probe"))
    return seen, latency


def test_a_registered_search_prints_its_choice_and_never_nan(probe_search, msnas_predictor, capsys):
    seen, latency = probe_search
    assert main(["search", "test-probe", "--predictor", str(msnas_predictor), "--steps", "4"]) == 0
    out = capsys.readouterr().out
    assert seen == {"space": "msnas", "size": "small", "lam": 3.0, "steps": 4, "unit": "ms"}
    assert "probe: synthetic" in out and "chosen genotype g1: predicted latency_ms 1.5" in out
    assert "nan" not in out.lower()
    latency["ms"] = float("inf")
    assert main(["search", "test-probe", "--predictor", str(msnas_predictor)]) == 2
    assert "the λ=1 run's predicted latency (ms) is inf" in capsys.readouterr().err


def test_unknown_search_and_misplaced_space_are_one_line(capsys, msnas_predictor):
    assert main(["search", "no-such", "--predictor", str(msnas_predictor)]) == 2
    assert (
        "unknown search 'no-such'; valid: cakes, ga, hypersegnas, memory-filter, mixed-op"
        in capsys.readouterr().err
    )
    assert main(["search", "ga", "--space", "msnas", "--predictor", str(msnas_predictor)]) == 2
    assert "--space is for `search mixed-op`" in capsys.readouterr().err
    assert main(["search", "mixed-op", "--predictor", str(msnas_predictor)]) == 2
    assert "search mixed-op needs --space NAME" in capsys.readouterr().err


def test_hypersegnas_says_when_the_band_keeps_everything(monkeypatch, capsys):
    """--target-mib 22.55 as the hint suggested kept 2000/2000, the ±300 MiB
    band being wider than the samples' whole range (16-33 MiB). The hint says the band
    discriminates nothing and suggests one that does; the first hint already names it."""
    from latbench.cli import search

    class TensOfMiB:
        unit = "MiB"

        def predict(self, archs):  # noqa: ANN001, ANN202
            return np.linspace(16.0, 33.0, len(archs))

    monkeypatch.setattr(search, "_memory_model", lambda args: TensOfMiB())
    assert (
        main(["search", "hypersegnas", "--size", "small", "-n", "5", "--target-mib", "22.55"]) == 0
    )
    out = " ".join(capsys.readouterr().out.split())
    assert "kept 5/5" in out
    assert (
        "the band -277.45 to 322.55 MiB is wider than the samples' whole range, so it "
        "discriminates nothing"
    ) in out
    assert "--band-mib (e.g. 1.7, a tenth of the samples' range)" in out
    assert main(["search", "hypersegnas", "--size", "small", "-n", "5"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "set --target-mib (e.g. 24.5) and --band-mib (e.g. 1.7" in out
    assert (
        main(
            [
                "search",
                "hypersegnas",
                "--size",
                "small",
                "-n",
                "5",
                "--target-mib",
                "24.5",
                "--band-mib",
                "1.7",
            ]
        )
        == 0
    )
    out = " ".join(capsys.readouterr().out.split())
    assert "kept 1/5" in out and "hint" not in out


def test_uncalibrated_cuda_memory_prediction_says_the_context_is_not_in_it(capsys):
    assert main(["memory", "dints", "--predict", "--device", "cuda", "--n", "1"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "CUDA context NOT included" in out
    assert "context: NOT included: the CUDA context" in out


def test_hypersegnas_refuses_a_latency_predictor_in_one_line(tmp_path, capsys):
    """The memory filter takes a predictor of architectures in MiB (unit and input_level)."""
    from latbench.predictors.lookup import LookupPredictor
    from latbench.predictors.persist import save

    lookup = LookupPredictor().fit(*op_data(PROFILES / "nasbench201-small.csv").xy)
    path = save(lookup, tmp_path / "lut.json")
    assert main(["search", "hypersegnas", "-n", "5", "--predictor", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not predict architectures' memory" in err[0]


@pytest.mark.parametrize("which", ["cakes", "rtdnas", "stnas"])
def test_a_network_predictor_is_refused_in_one_line(which, tmp_path, capsys):
    """`search cakes --predictor <network predictor>` was a 36-line traceback (the
    check read `level`, the predictors say `input_level`)."""
    from latbench.archs import sample_architectures
    from latbench.predictors.lookup import LookupPredictor
    from latbench.predictors.network import NetworkPredictor
    from latbench.predictors.persist import save

    lookup = LookupPredictor().fit(*op_data(PROFILES / "nasbench201-small.csv").xy)
    archs = sample_architectures("nasbench201", 3, "small", seed=1)
    net = NetworkPredictor(lookup, "sum", "none").fit(archs, [1.0, 2.0, 3.0])
    save(net, tmp_path / "net.json")
    assert main(["search", which, "--predictor", str(tmp_path / "net.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "NetworkPredictor (ms, network level)" in err[0]
    assert "needs an op latency predictor" in err[0]


def test_a_cost_option_the_search_would_not_read_is_one_line(capsys, msnas_predictor):
    """--table / --profile-missing beside --predictor (or for hypersegnas' memory costs) were
    ignored without a word: the run priced with another source than the one named."""
    table = str(PROFILES / "msnas-small.csv")
    for argv, needle in (
        (["rtdnas", "--predictor", str(msnas_predictor), "--table", table], "--table: a lookup"),
        (["ga", "--predictor", str(msnas_predictor), "--profile-missing"], "--profile-missing: a"),
        (
            ["hypersegnas", "--table", table],
            "hypersegnas takes its costs from a memory --predictor",
        ),
    ):
        capsys.readouterr()
        assert main(["search", *argv, "--steps", "1"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], err


def test_a_predictor_of_another_space_says_which_space_it_was_fitted_on(capsys, msnas_predictor):
    assert main(["search", "stnas", "--predictor", str(msnas_predictor)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "have no measured row" in err[0], err
    assert err[0].endswith(
        f"; {msnas_predictor} was fitted on tables of msnas (small), not of stnas-encoder, "
        "stnas-decoder"
    )
