"""A table with a key written twice under one protocol is refused by fit's loaders."""

from __future__ import annotations

import pytest

from latbench.archs import sample_architectures
from latbench.cli import main
from latbench.errors import TableError
from latbench.netprofile import measure_architectures
from latbench.opspec import OpSpec
from latbench.predictors.data import network_data, op_data
from latbench.profile import profile_specs
from latbench.tablerun.ids import arch_id
from latbench.timing import TimingConfig, make_timer

TIMER = make_timer("cpu", TimingConfig(budget_ms=2, warmup_ms=1), threads=1)


def _double_last_row(path):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines + lines[-1:]))


def test_fit_names_the_duplicated_op_keys(tmp_path, capsys):
    path = tmp_path / "ops.csv"
    specs = [OpSpec.make("conv", (1, 4, 8, 8), kernel=k) for k in (1, 3)]
    profile_specs(specs, path, TIMER)
    op_data(path)  # unique: accepted
    _double_last_row(path)
    with pytest.raises(TableError, match="1 key\\(s\\) written more than once") as err:
        op_data(path)
    assert specs[1].key in str(err.value)
    assert main(["fit", str(path), "-o", str(tmp_path / "p.json")]) == 2
    assert specs[1].key in capsys.readouterr().err


def test_networks_repeats_and_protocols_are_not_duplicates(tmp_path):
    path = tmp_path / "n.csv"
    archs = sample_architectures("nasbench201", 1, "small", 0)
    measure_architectures(archs, path, TIMER, repeats=2)
    measure_architectures(archs, path, make_timer("cpu", TimingConfig(budget_ms=3), threads=1))
    network_data(path)  # repeat 1 and 2, two protocols: fine
    _double_last_row(path)
    with pytest.raises(TableError, match=f"{arch_id(archs[0])}:1"):
        network_data(path)


def test_fit_kind_memory_refuses_a_duplicated_architecture(tmp_path):
    from latbench.memory.steps import TrainConfig
    from latbench.memory.table import measure_into_table
    from latbench.predictors.memory import fit_memory

    path = tmp_path / "m.csv"
    archs = sample_architectures("nasbench201", 1, "small", 0)
    measure_into_table(
        archs,
        path,
        lambda a: {"status": "ok", "error": "", "rss_growth_mib": 5.0},
        "cpu",
        TrainConfig(),
    )
    _double_last_row(path)
    with pytest.raises(TableError, match=f"arch:{arch_id(archs[0])}"):
        fit_memory(path)
