"""One parser for the architecture a command takes (`latbench memory
nasbench201:0:small` said "unknown space" while validate accepts SPACE:SEED:SIZE)."""

from __future__ import annotations

import pytest

from latbench.archs.registry import architecture_from_ref
from latbench.cli import main
from latbench.tablerun.ids import arch_id


def test_memory_reads_space_seed_size_as_validate_does(capsys):
    arch = architecture_from_ref("nasbench201:0:small")
    assert main(["memory", "nasbench201:0:small", "--predict"]) == 0
    out = capsys.readouterr().out
    assert arch_id(arch)[:8] in out and "unknown space" not in out


@pytest.mark.parametrize(
    "ref, needle",
    [("nasbench201:x", "SPACE:SEED[:SIZE]"), ("nasbench201:1:huge", "unknown size 'huge'")],
)
def test_a_bad_reference_is_the_same_line_in_memory_and_validate(ref, needle, capsys, tmp_path):
    lines = []
    for argv in (["memory", ref, "--predict"], ["validate", ref, "--out", str(tmp_path)]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0]
        lines.append(err[0])
    assert lines[0] == lines[1]
