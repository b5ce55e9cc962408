"""Declared hyper-parameters over the whole op registry: aliases share one canonical key
(``kernel=(3,3)`` is ``kernel=3``) and out-of-range values are one ``OpSpecError``, generated per
parameter from each kind's example rather than listed by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from latbench.errors import OpSpecError
from latbench.ops import get_op_kind, list_op_kinds
from latbench.opspec import OpSpec

_spec = importlib.util.spec_from_file_location(
    "_registry_examples", Path(__file__).with_name("test_registry.py")
)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
example = _mod.example


def aliases(spec: OpSpec) -> list[dict]:
    """Other spellings of ``spec``'s parameters that build the same module."""
    kind, out = get_op_kind(spec.kind), []
    dims = len(spec.input_shape) - 2
    for name, value in spec.params:
        form = getattr(kind.params[name], "form", "")
        if form == "per_dim" and isinstance(value, int):
            out.append({name: (value,) * dims})
            out.append({name: [value] * dims})
        if form == "number" and isinstance(value, int):
            out.append({name: float(value)})
        if form == "channels":
            implied = kind.params[name].implied(spec.input_shape)
            out.append({name: implied} if value is None else {name: value})
            if value is None:
                out.append({name: float(implied)})
    if spec.kind == "pool" and spec.p["stride"] is None:
        out.append({"stride": spec.p["kernel"]})
    return out


ALIAS_CASES = [(k, a) for k in list_op_kinds() for a in aliases(example(k))]


@pytest.mark.parametrize("kind, alias", ALIAS_CASES, ids=[f"{k}-{a}" for k, a in ALIAS_CASES])
def test_aliases_share_one_canonical_key(kind, alias):
    spec = example(kind)
    other = spec.replace(**alias)
    assert other.key == spec.key
    assert OpSpec.from_key(other.key) == spec


def test_known_alias_pairs_share_one_key():
    conv = dict(kind="conv", input_shape=(1, 8, 16, 16))
    pairs = [
        (dict(**conv, kernel=3), dict(**conv, kernel=(3, 3))),
        (dict(**conv, out=None), dict(**conv, out=8)),
        (dict(**conv, dilation=1), dict(**conv, dilation=(1, 1))),
        (
            dict(kind="pool", input_shape=(1, 8, 16, 16), kernel=2),
            dict(kind="pool", input_shape=(1, 8, 16, 16), kernel=2, stride=2),
        ),
        (
            dict(kind="upsample", input_shape=(1, 8, 4, 4), scale=2),
            dict(kind="upsample", input_shape=(1, 8, 4, 4), scale=2.0),
        ),
    ]
    for a, b in pairs:
        assert OpSpec.make(**a).key == OpSpec.make(**b).key


def test_every_kind_canonical_key_round_trips_and_covers_aliases():
    assert len(ALIAS_CASES) >= 20
    for kind in list_op_kinds():
        spec = example(kind)
        assert OpSpec.from_key(spec.key).key == spec.key


def bad_values(spec: OpSpec) -> list[dict]:
    """Out-of-range values generated for every integer parameter of ``spec``."""
    kind, out = get_op_kind(spec.kind), []
    for name, value in spec.params:
        if isinstance(value, bool) or not isinstance(value, (int, type(None))):
            continue
        if value is None and getattr(kind.params[name], "form", "") != "channels":
            continue
        number = getattr(kind.params[name], "form", "") == "number"
        out += [
            {name: v} for v in (0, -5, 10**12, True, "3", [1, 2, 3, 4]) + (() if number else (2.5,))
        ]
    return out


BAD_CASES = [(k, b) for k in list_op_kinds() for b in bad_values(example(k))]


@pytest.mark.parametrize("kind, bad", BAD_CASES, ids=[f"{k}-{b}" for k, b in BAD_CASES])
def test_out_of_range_parameters_are_one_line_errors(kind, bad):
    with pytest.raises(OpSpecError) as err:
        example(kind).replace(**bad)
    message = str(err.value)
    assert "\n" not in message and kind in message and next(iter(bad)) in message


@pytest.mark.parametrize(
    "shape",
    [(1, 10**12, 4, 4), (0, 4, 4, 4), (1, 4, -1, 4), (1, 2.5, 4, 4), (2**20, 2**20, 2**10, 2)],
)
def test_insane_shapes_are_refused(shape):
    with pytest.raises(OpSpecError, match="input shape"):
        OpSpec.make("conv", shape)


def test_groups_must_divide_channels_at_make_time():
    with pytest.raises(OpSpecError, match="groups=3 must divide"):
        OpSpec.make("conv", (1, 8, 4, 4), groups=3)
