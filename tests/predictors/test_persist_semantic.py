"""Predictor files edited by hand and re-checksummed with values that parse but mean nothing
: negative or 1e300 network weights (or learned coefficients), an op model that predicts
networks, latencies of 1e308, a key listed twice (two latencies: a lookup kept one), a bogus
fitted statistic, learned ``models: {}``, short coefficients, kinds that are not op kinds, an
intercept past any latency, a negative ridge penalty. Each is one "damaged: field ..." line,
checked where the file is read; never a traceback or a number."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from test_persist_damaged import rechecksum

from latbench.archs import sample_architectures
from latbench.cli import main
from latbench.predictors.data import op_data
from latbench.predictors.learned import LearnedPredictor
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.network import NetworkPredictor
from latbench.predictors.persist import PredictorFileError, load, save

TABLE = Path(__file__).parents[2] / "device_profiles/cpu-amd-epyc-1t/nasbench201-small.csv"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("p")
    lookup = LookupPredictor().fit(*op_data(TABLE).xy)
    archs = sample_architectures("nasbench201", 4, "small", seed=1)
    out = {
        "lookup": save(lookup, folder / "lookup.json", statistic="latency_median_ms"),
        "network": save(
            NetworkPredictor(lookup).fit(archs, [1.0, 2.0, 3.0, 4.5]), folder / "network.json"
        ),
        "learned": save(LearnedPredictor().fit(*op_data(TABLE).xy), folder / "learned.json"),
    }
    return {k: json.loads(Path(v).read_text()) for k, v in out.items()}


def _models(doc: dict) -> list[dict]:
    return list(doc["state"]["models"].values())


CASES = [
    (
        "network",
        lambda d: d["state"].update(weights=[-1.0] * len(d["state"]["weights"])),
        "'weights' is '-1.0'; expected numbers >= 0",
    ),
    ("network", lambda d: d["state"].update(kind_mean_weight=-3.0), "kind_mean_weight"),
    (  # predicted 1e300 ms
        "network",
        lambda d: d["state"].update(weights=[1e300] * len(d["state"]["weights"])),
        "'weights' is '1e+300'",
    ),
    (
        "network",
        lambda d: d["state"].update(
            op_model={"class": "NetworkPredictor", "state": copy.deepcopy(d["state"])}
        ),
        "'op_model' is 'NetworkPredictor'; expected a predictor of ops",
    ),
    (
        "lookup",
        lambda d: d["state"].update(latency_ms=[1e308] * len(d["state"]["latency_ms"])),
        "expected latencies of 1e-06-1e+09 ms",
    ),
    ("lookup", lambda d: d.update(statistic="latency_bogus_ms"), "'statistic'"),
    (
        "lookup",
        lambda d: d["state"]["keys"].__setitem__(1, d["state"]["keys"][0]),
        "'keys' is",
    ),
    ("learned", lambda d: d["state"].update(models={}), "expected the shared model '*'"),
    (
        "learned",
        lambda d: [
            m.update(mean=m["mean"][:3], scale=m["scale"][:3], coef=m["coef"][:3])
            for m in _models(d)
        ],
        "coefficients",
    ),
    ("learned", lambda d: d["state"].update(kinds=[1, 2]), "a list of op kinds"),
    # a bad entry of a long list is named, not the list's first 60 characters
    ("lookup", lambda d: d["state"]["keys"].__setitem__(-1, 7), "'keys' is '7'"),
    ("learned", lambda d: d["state"]["kinds"].__setitem__(-1, 7), "'kinds' is '7'"),
    (
        "learned",
        lambda d: d["state"]["params"]["features"].__setitem__(-1, "log_bogus"),
        "'params.features' is 'log_bogus'",
    ),
    (  # exp overflowed to inf ms
        "learned",
        lambda d: [m.update(coef=[1e300] * len(m["coef"])) for m in _models(d)],
        "coef' is '1e+300'",
    ),
    ("learned", lambda d: [m.update(intercept=1e5) for m in _models(d)], "mean log latency"),
    (
        "learned",
        lambda d: d["state"]["models"].update(bogus=d["state"]["models"]["*"]),
        "models of fitted kinds only",
    ),
    ("learned", lambda d: d["state"]["params"].update(alpha=-1), "ridge penalty >= 0"),
    (  # standardised every op to exp(-inf) = 0 ms
        "learned",
        lambda d: [m["mean"].__setitem__(0, 1e300) for m in _models(d)],
        "'mean' is '1e+300'",
    ),
    ("learned", lambda d: [m["scale"].__setitem__(0, 1e300) for m in _models(d)], "'scale'"),
    ("learned", lambda d: d["state"]["params"].update(min_rows_per_kind=0), "min_rows_per"),
]


@pytest.mark.parametrize("which, edit, needle", CASES)
def test_a_rechecksummed_file_that_means_nothing_is_one_line(
    files, tmp_path, capsys, which, edit, needle
):
    doc = copy.deepcopy(files[which])
    edit(doc)
    path = tmp_path / "edited.json"
    path.write_text(rechecksum(doc))
    with pytest.raises(PredictorFileError, match="damaged") as exc:
        load(path)
    assert needle in str(exc.value)
    key = sample_architectures("nasbench201", 1, "small", seed=0)[0].edges[0].op.key
    assert main(["predict", str(path), "--key", key]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_the_untouched_files_load(files, tmp_path):
    for which, doc in files.items():
        path = tmp_path / f"{which}.json"
        path.write_text(rechecksum(doc))
        assert load(path) is not None


def test_an_op_kind_no_loaded_plugin_registers_is_named_not_called_damage(files, tmp_path):
    """A lookup predictor of a plugin's op kind, read where the plugin is not loaded: the line
    names the kind and how to load a plugin, and does not call the file damaged."""
    doc = copy.deepcopy(files["lookup"])
    doc["state"]["keys"][0] = "toy_conv|kernel=3|1x8x16x16|float32|infer"
    path = tmp_path / "plugin.json"
    path.write_text(rechecksum(doc))
    with pytest.raises(PredictorFileError) as exc:
        load(path)
    line = str(exc.value)
    assert "unknown op kind 'toy_conv'" in line and "--plugin MODULE" in line
    assert "damaged" not in line
