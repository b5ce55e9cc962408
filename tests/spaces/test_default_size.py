"""`nasbench201` means the benchmark's network unless `small` is asked for."""

from __future__ import annotations

import pytest

from latbench.archs import sample_architectures
from latbench.cli.commands import build_parser
from latbench.spaces import SIZES, default_size, list_spaces


def test_default_sizes() -> None:
    assert default_size("nasbench201") == "paper"
    assert {default_size(s) for s in list_spaces() if s != "nasbench201"} == {"small"}
    assert sample_architectures("nasbench201", 1)[0].meta["size"] == "paper"
    assert sample_architectures("dints", 1)[0].meta["size"] == "small"


@pytest.mark.parametrize(
    "argv",
    [
        ["profile", "nasbench201"],
        ["measure-nets", "nasbench201"],
        ["predict", "p.json", "--space", "nasbench201"],
        ["memory", "nasbench201"],
    ],
)
def test_commands_leave_size_to_the_space_unless_given(argv: list[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(argv).size is None  # resolved by default_size at run time
    assert parser.parse_args(argv + ["--size", "small"]).size == "small"
    assert set(SIZES) == {"small", "paper"}
