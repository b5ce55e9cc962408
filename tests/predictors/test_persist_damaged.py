"""Re-checksummed edits of a predictor file are "damaged: field ...", never a traceback or a
silent prediction: the state is validated, not only the checksum."""

from __future__ import annotations

import hashlib
import json

import pytest

from latbench.predictors.data import op_data
from latbench.predictors.learned import LearnedPredictor
from latbench.predictors.lookup import LookupPredictor
from latbench.predictors.network import NetworkPredictor
from latbench.predictors.persist import PredictorFileError, _canonical, load, save
from latbench.predictors.transfer import TransferPredictor


def rechecksum(doc: dict) -> str:
    doc = {k: v for k, v in doc.items() if k != "checksum"}
    return json.dumps({**doc, "checksum": hashlib.sha256(_canonical(doc)).hexdigest()})


@pytest.fixture(scope="module")
def network_file(synth, nb201_ops, nb201_archs, tmp_path_factory):
    lookup = LookupPredictor().fit(*op_data(synth.op_table(nb201_ops)).xy)
    model = NetworkPredictor(lookup).fit(
        nb201_archs[:10], [synth.network_ms(a) for a in nb201_archs[:10]]
    )
    return save(model, tmp_path_factory.mktemp("p") / "net.json")


@pytest.mark.parametrize(
    "edit, needle",
    [
        (lambda s: s["params"].update(composition="product"), "params.composition"),
        (lambda s: s["params"].update(calibration=3), "params.calibration"),
        (lambda s: s["params"].update(small_op_ms=-1.0), "params.small_op_ms"),
        (lambda s: s["op_model"]["state"].update(latency_ms=[1.0, 2.0, 3.0]), "latency_ms"),
        (lambda s: s["op_model"]["state"]["latency_ms"].__setitem__(0, -1.0), "latency_ms"),
        (
            lambda s: s["op_model"]["state"]["keys"].__setitem__(
                0, "conv|out=0|1x2x4x4|float32|infer"
            ),
            "out=0",
        ),
        (lambda s: s.update(weights=[1.0]), "weights"),
        (lambda s: s.update(terms=["const"]), "terms"),
        (lambda s: s["op_model"]["state"]["params"].update(strict="yes"), "params.strict"),
        (lambda s: s.pop("weights"), "weights"),
        (lambda s: s["op_model"].update({"class": "Nope"}), "unknown predictor class"),
    ],
)
def test_edited_state_is_damaged(network_file, tmp_path, edit, needle):
    doc = json.loads(network_file.read_text())
    edit(doc["state"])
    _assert_damaged(doc, tmp_path, needle)


def test_unedited_file_still_loads(network_file, nb201_archs):
    assert load(network_file).predict(nb201_archs[:2]).shape == (2,)


@pytest.mark.parametrize(
    "field, value, needle",
    [
        ("sizes", {"nasbench201": 5}, "sizes.nasbench201"),  # was a TypeError in predict
        ("sizes", {"nasbench201": "small"}, "sizes.nasbench201"),  # was silently size paper
        ("sizes", {"nasbench201": ["huge"]}, "sizes.nasbench201[0]"),  # predict: no file named
        ("drift_reference", {"nominal_ms": "abc", "reference": "r"}, "nominal_ms"),
        ("drift_reference", {"nominal_ms": -2.0, "reference": "r"}, "nominal_ms"),
        ("drift_reference", {"nominal_ms": [1.0], "reference": "r"}, "nominal_ms"),
        ("drift_reference", {"nominal_ms": 2.0, "reference": 7}, "drift_reference.reference"),
    ],
)
def test_edited_records_are_damaged(network_file, tmp_path, field, value, needle):
    """``sizes`` and ``drift_reference`` (read by predict and validate) are checked on load."""
    doc = json.loads(network_file.read_text())
    doc[field] = value
    _assert_damaged(doc, tmp_path, needle)


def _assert_damaged(doc: dict, tmp_path, needle: str) -> None:
    """``doc`` re-checksummed and saved: loading it is one line naming the file and ``needle``."""
    path = tmp_path / "edited.json"
    path.write_text(rechecksum(doc))
    with pytest.raises(PredictorFileError) as err:
        load(path)
    message = str(err.value)
    assert "\n" not in message and "edited.json" in message and needle in message, message


def test_well_formed_records_load(network_file, tmp_path):
    doc = json.loads(network_file.read_text())
    doc.update(
        sizes={"nasbench201": ["small"]}, drift_reference={"nominal_ms": 2.5, "reference": "r"}
    )
    path = tmp_path / "ok.json"
    path.write_text(rechecksum(doc))
    assert load(path).info_["drift_reference"]["nominal_ms"] == 2.5


@pytest.fixture(scope="module")
def learned_file(synth, nb201_ops, tmp_path_factory):
    model = LearnedPredictor(min_rows_per_kind=2).fit(*op_data(synth.op_table(nb201_ops)).xy)
    return save(model, tmp_path_factory.mktemp("p") / "learned.json")


@pytest.mark.parametrize(
    "edit, needle",
    [
        (lambda s: s.update(device=3), "LearnedPredictor.state: field 'device' is an int"),
        (lambda s: s.update(table_sha256=[]), "field 'table_sha256' is a list"),
        (lambda s: s["models"]["*"]["scale"].__setitem__(0, -1.0), "'scale'"),
        (lambda s: s["models"]["*"]["scale"].__setitem__(0, 0), "'scale'"),
    ],
)
def test_a_learned_state_of_the_wrong_type_or_a_scale_below_0_is_damaged(
    learned_file, tmp_path, edit, needle
):
    """The device is a slug (a string) and each scale a feature's standard deviation (> 0)."""
    doc = json.loads(learned_file.read_text())
    edit(doc["state"])
    _assert_damaged(doc, tmp_path, needle)


def test_a_transfer_scale_below_0_is_damaged(synth, nb201_ops, nb201_archs, tmp_path):
    lookup = LookupPredictor().fit(*op_data(synth.op_table(nb201_ops)).xy)
    archs = nb201_archs[:8]
    model = TransferPredictor(lookup, "opcost").fit(archs, [synth.network_ms(a) for a in archs])
    doc = json.loads(save(model, tmp_path / "t.json").read_text())
    doc["state"]["scale"] = -2.0
    _assert_damaged(doc, tmp_path, "'scale'")


@pytest.fixture(scope="module")
def transfer_docs(synth, nb201_ops, nb201_archs, tmp_path_factory):
    """A saved transfer predictor of each method family: op costs, device model, log map."""
    lookup = LookupPredictor().fit(*op_data(synth.op_table(nb201_ops)).xy)
    archs, folder = nb201_archs[:8], tmp_path_factory.mktemp("t")
    y = [synth.network_ms(a) for a in archs]
    return {
        method: json.loads(
            save(TransferPredictor(lookup, method).fit(archs, y), folder / "t.json").read_text()
        )
        for method in ("opcost", "roofline", "loglinear")
    }


@pytest.mark.parametrize(
    "method, edit, needle",
    [
        ("opcost", lambda s: s.update(theta=s["theta"][:-1]), "'theta'"),  # was an IndexError
        ("opcost", lambda s: s["theta"].__setitem__(1, None), "'theta'"),  # was NaN ms
        ("opcost", lambda s: s.update(method_="bogus"), "'method_'"),
        ("opcost", lambda s: s.update(y_range=[5.0]), "'y_range'"),  # was a ValueError
        ("opcost", lambda s: s.update(y_range=[5.0, 1.0]), "'y_range'"),
        ("roofline", lambda s: s["map"].__setitem__(1, -1.0), "'map'"),
        ("loglinear", lambda s: s.update(map=[]), "'map'"),
        ("loglinear", lambda s: s["map"].__setitem__(0, 1e300), "'map'"),  # was inf ms
        ("loglinear", lambda s: s["map"].__setitem__(1, None), "'map'"),
        ("loglinear", lambda s: s["residuals"].__setitem__(0, "x"), "'residuals'"),
    ],
)
def test_a_transfer_whose_fitted_arrays_mean_nothing_is_damaged(
    transfer_docs, tmp_path, method, edit, needle
):
    """Each predicted an IndexError/ValueError traceback or NaN/inf ms before."""
    doc = json.loads(json.dumps(transfer_docs[method]))
    edit(doc["state"])
    _assert_damaged(doc, tmp_path, needle)


@pytest.mark.parametrize("weights", [[0.4, -1.0, 0.0, 0.0], [-1e300, 0.0, 0.0, 0.0]])
def test_a_spec_sheet_estimate_with_a_negative_weight_is_damaged(tmp_path, weights):
    """``fit --target-gpu V100 --shots 0`` edited: it predicted -141 ms (or -1e300 ms)."""
    from latbench.predictors.gpu_specs import SpecSheetPredictor

    doc = json.loads(save(SpecSheetPredictor("V100").fit(), tmp_path / "v100.json").read_text())
    doc["state"]["weights"] = weights
    _assert_damaged(doc, tmp_path, "'weights'")


@pytest.fixture(scope="module")
def prior_doc(synth, nb201_archs, tmp_path_factory):
    from latbench.predictors.batch import encode
    from latbench.predictors.device_prior import DevicePrior

    archs = nb201_archs[:12]
    devices = {
        name: (encode(archs), [scale * synth.network_ms(a) for a in archs])
        for name, scale in (("a", 1.0), ("b", 2.0))
    }
    prior = DevicePrior.fit_devices(devices)
    return json.loads(save(prior, tmp_path_factory.mktemp("p") / "prior.json").read_text())


@pytest.mark.parametrize(
    "edit, needle",
    [
        (lambda s: s["cov"][0].__setitem__(0, None), "'cov/phis'"),  # was a ValueError traceback
        (lambda s: s["cov"][1].__setitem__(1, -1.0), "'cov/phis'"),  # in `fit --prior-from`
        (lambda s: s["phis"][0].__setitem__(0, None), "'cov/phis'"),
        (lambda s: s.update(batches=[0, 1]), "'batches'"),
        # fit --prior-from it then transferred with Kendall tau -0.75 (opcost-learned)
        (lambda s: s["mean"].__setitem__(1, 1e300), "'mean'"),
        (lambda s: s["phis"][0].__setitem__(1, 1e300), "'cov/phis'"),
        (lambda s: s.update(batches=[1]), "'batches'"),
    ],
)
def test_a_device_prior_with_nan_or_negative_variances_is_damaged(
    prior_doc, tmp_path, edit, needle
):
    doc = json.loads(json.dumps(prior_doc))
    edit(doc["state"])
    _assert_damaged(doc, tmp_path, needle)


@pytest.mark.parametrize(
    "field, value",
    [
        ("offset_mib_", -1e300),  # predicted -1e300 MiB
        ("residual_spread_mib_", -1.0),
        ("context_mib_", "x"),  # a ValueError traceback where an nvml estimate is explained
        ("max_split_mib", -1),
    ],
)
def test_a_memory_predictor_with_impossible_mib_is_damaged(tmp_path, field, value):
    from latbench.predictors.memory import TrainingMemoryPredictor

    doc = json.loads(
        save(TrainingMemoryPredictor("nvml").fit([], []), tmp_path / "m.json").read_text()
    )
    doc["state"][field] = value
    _assert_damaged(doc, tmp_path, f"'{field}'")
