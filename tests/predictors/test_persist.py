import json

import numpy as np
import pytest

from latbench.predictors.base import input_level
from latbench.predictors.data import op_data
from latbench.predictors.learned import FlopsCost, LearnedPredictor, flops_baseline
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.network import NetworkPredictor
from latbench.predictors.persist import DeviceMismatchWarning, PredictorFileError, load, save
from latbench.predictors.report import UNDEFINED_RANK, metric_rows
from latbench.predictors.transfer import TransferPredictor


@pytest.fixture(scope="module")
def fitted(synth, nb201_ops, nb201_archs):
    table = synth.op_table(nb201_ops)
    measured = np.array([synth.network_ms(a) for a in nb201_archs])
    net = NetworkPredictor(LearnedPredictor().fit(*op_data(table).xy)).fit(nb201_archs, measured)
    return {
        "lookup": LookupPredictor(fallback=flops_baseline().fit(*op_data(table).xy)).fit(
            *op_data(table).xy
        ),
        "learned": LearnedPredictor(per_kind=False).fit(*op_data(table).xy),
        "network": net,
        "per_kind": NetworkPredictor(FlopsCost(), calibration="per_kind").fit(
            nb201_archs, measured
        ),
        "split": NetworkPredictor(
            LookupPredictor().fit(*op_data(table).xy), calibration="split", small_op_ms=0.05
        ).fit(nb201_archs, measured),
        "transfer": TransferPredictor(net).fit(nb201_archs[:10], 2 * measured[:10] ** 0.9),
    }


@pytest.mark.parametrize("name", ["lookup", "learned", "network", "per_kind", "split", "transfer"])
def test_reload_predicts_bit_identically(fitted, name, tmp_path, nb201_ops, nb201_archs):
    model = fitted[name]
    queries = nb201_archs if input_level(model) == "network" else nb201_ops
    path = save(
        model,
        tmp_path / "p.json",
        device="cpu-test-1t",
        tables={"ops": "ab" * 32},
        fit_metrics={"mape_pct": 1.5},
    )
    again = load(path)
    assert again.predict(queries).tobytes() == model.predict(queries).tobytes()
    assert again.info_["device"] == "cpu-test-1t" and again.info_["fit_metrics"]["mape_pct"] == 1.5
    assert "numpy" in again.info_["libraries"]


def test_a_tampered_number_fails_the_checksum(fitted, tmp_path):
    path = save(fitted["lookup"], tmp_path / "p.json")
    doc = json.loads(path.read_text())
    doc["state"]["latency_ms"][0] *= 2
    path.write_text(json.dumps(doc))
    with pytest.raises(PredictorFileError, match="checksum mismatch"):
        load(path)


def test_a_truncated_file_is_refused_clearly(fitted, tmp_path):
    path = save(fitted["network"], tmp_path / "p.json")
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(PredictorFileError, match="truncated"):
        load(path)


def test_other_formats_versions_and_missing_files(fitted, tmp_path):
    path = save(fitted["learned"], tmp_path / "p.json")
    doc = json.loads(path.read_text())
    for field, value, match in (
        ("version", 99, "version 99"),
        ("format", "other", "expected 'latbench.predictor'"),
    ):
        path.write_text(json.dumps({**doc, field: value}))
        with pytest.raises(PredictorFileError, match=match):
            load(path)
    with pytest.raises(PredictorFileError, match="no such predictor file"):
        load(tmp_path / "absent.json")


def test_loading_for_another_device_warns_or_errors(fitted, tmp_path):
    path = save(fitted["learned"], tmp_path / "p.json", device="cpu-a-1t")
    with pytest.warns(DeviceMismatchWarning, match="cpu-a-1t"):
        load(path, device="cpu-b-2t")
    with pytest.raises(PredictorFileError, match="fitted on device 'cpu-a-1t'"):
        load(path, device="cpu-b-2t", strict_device=True)


def test_drift_reference_of_a_table_is_saved_with_the_predictor(tmp_path):
    """A predictor fitted on a drift-corrected statistic records what it is relative to:
    nominal = reference_ms / drift of the table's rows (so validate can correct likewise)."""
    import pandas as pd

    from latbench.predictors.data import drift_reference

    rows = pd.DataFrame({"reference_ms": [3.0, 3.3, 2.85], "drift": [1.0, 1.1, 0.95]})
    ref = drift_reference(rows, {"protocol": {"reference": "ref-net"}})
    assert ref == {"nominal_ms": pytest.approx(3.0), "reference": "ref-net"}
    assert drift_reference(rows.drop(columns="drift"), {}) is None
    model = LookupPredictor().fit(
        *op_data(
            pd.DataFrame(
                {
                    "key": ["identity||1x2x4x4|float32|infer"],
                    "latency_median_ms": [0.1],
                    "status": "ok",
                }
            )
        ).xy
    )
    path = save(
        model, tmp_path / "p.json", statistic="latency_min_corrected_ms", drift_reference=ref
    )
    assert load(path).info_["drift_reference"] == ref


def test_a_fit_on_equal_latencies_saves(synth, nb201_ops, nb201_archs, tmp_path):
    """Equal measured latencies leave Kendall τ undefined; the fit's metrics say so (None,
    ``null`` in the file), neither 0 nor NaN, the predictor still saves, and the fit's table
    prints it as undefined."""
    table = synth.op_table(nb201_ops)
    ops, _ = op_data(table).xy
    flat_ops = LearnedPredictor(per_kind=False).fit(ops, np.full(len(ops), 0.5))
    flat_net = NetworkPredictor(LookupPredictor().fit(*op_data(table).xy)).fit(
        nb201_archs[:5], np.full(5, 2.0)
    )
    for model in (flat_ops, flat_net):
        assert model.fit_metrics_["kendall_tau"] is None
        assert load(save(model, tmp_path / "flat.json")).fit_metrics_ == model.fit_metrics_
        assert metric_rows({"flat": model.fit_metrics_})[0][5] == UNDEFINED_RANK
