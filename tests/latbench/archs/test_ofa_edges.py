"""OFA encodings at the edges of float range: r=inf / 1e400 were OverflowError tracebacks in
memory, validate and evaluate; r=204.7 became 204 and batch 2.5 became 2 without a word
. Each is one OfaEncodingError naming the field."""

from __future__ import annotations

import json

import pytest

from latbench.archs.ofa_mbv3 import OfaEncodingError, config_from_columns, from_genotype
from latbench.cli import main

KS, E, D = "-".join(["3"] * 20), "-".join(["4"] * 20), "-".join(["2"] * 5)


@pytest.mark.parametrize("r", ["inf", "1e400", "204.7", "nan", "-224", "0"])
def test_a_resolution_that_is_no_pixel_count_is_named(r):
    with pytest.raises(OfaEncodingError, match=r"r='?.*'? is not an integer resolution"):
        config_from_columns(KS, E, D, r)


@pytest.mark.parametrize("w", [float("inf"), float("nan"), 0.0])
def test_a_width_that_is_no_multiplier_is_named(w):
    with pytest.raises(OfaEncodingError, match="w="):
        config_from_columns(KS, E, D, 224, w)


@pytest.mark.parametrize("batch", [2.5, 0, float("inf"), True, "2"])
def test_a_batch_that_is_no_count_is_named(batch):
    with pytest.raises(OfaEncodingError, match="batch="):
        from_genotype(f"ks={KS};e={E};d={D};r=224;w=1.2", {"batch": batch})


@pytest.mark.parametrize("command", ["memory", "validate"])
def test_commands_reading_such_an_architecture_say_it_in_one_line(command, tmp_path, capsys):
    path = tmp_path / "ofa.json"
    path.write_text(
        json.dumps(
            {
                "space": "ofa-mbv3",
                "name": "x",
                "meta": {"batch": 1},
                "genotype": f"ks={KS};e={E};d={D};r=1e400;w=1.2",
            }
        )
    )
    argv = (
        [command, str(path), "--predict"]
        if command == "memory"
        else [command, str(path), "--out", str(tmp_path / "o")]
    )
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not an integer resolution" in err[0]
