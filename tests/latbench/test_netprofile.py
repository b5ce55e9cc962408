"""Whole-network measurement: rows per network and repeat, errors as data, resume, read back."""

from __future__ import annotations

import pytest

from latbench.archs import INPUT, Architecture, Edge, sample_architectures
from latbench.cli import main
from latbench.errors import TableError
from latbench.netprofile import (
    NETWORKS,
    arch_id,
    default_networks_path,
    measure_architectures,
    network_key,
    pass_items,
    read_architectures,
    read_networks,
)
from latbench.opspec import OpSpec
from latbench.profile import profile_specs
from latbench.tables import read_table
from latbench.timed import DRIFT_REFERENCE
from latbench.timing import TimingConfig, make_timer

FAST = TimingConfig(warmup_ms=1, budget_ms=5, min_samples=3)


def _timer():
    return make_timer("cpu", FAST, threads=1)


def _chain(kernels: tuple[int, ...], groups: int = 1) -> Architecture:
    edges, node = [], INPUT
    for i, k in enumerate(kernels):
        edges.append(
            Edge((node,), f"n{i}", OpSpec.make("conv", (1, 8, 8, 8), kernel=k, groups=groups))
        )
        node = f"n{i}"
    return Architecture("test", tuple(edges), node, genotype="-".join(map(str, kernels)))


def test_rows_carry_statistics_and_rebuild_the_architectures(tmp_path):
    archs = [_chain((1, 3)), _chain((3, 3, 3))]
    path = tmp_path / "n.csv"
    run = measure_architectures(archs, path, _timer(), size="small")
    df = read_networks(path)
    assert run.measured == [network_key(arch_id(a), 1) for a in archs]
    assert list(df["n_ops"]) == [2, 3] and (df["latency_median_ms"] > 0).all()
    assert list(df["n_params"]) == [8 * 8 * (1 + 9), 3 * 8 * 8 * 9]
    assert set(df["status"]) == {"ok"} and set(df["source"]) == {"measured"}
    assert read_architectures(path) == archs
    assert df.attrs["meta"]["schema"] == NETWORKS.name


def test_a_failing_network_is_recorded_and_the_run_goes_on(tmp_path):
    pool = OpSpec.make("pool", (1, 8, 2, 2), kernel=5)  # a valid spec that fails to run
    bad, good = Architecture("test", (Edge((INPUT,), "n0", pool),), "n0"), _chain((1,))
    run = measure_architectures([bad, good], tmp_path / "n.csv", _timer())
    df = read_table(tmp_path / "n.csv").set_index("arch_id")
    assert run.failed == [network_key(arch_id(bad), 1)]
    assert run.measured == [network_key(arch_id(good), 1)]
    assert (
        df.loc[arch_id(bad), "status"] == "error" and "too small" in df.loc[arch_id(bad), "error"]
    )
    assert df.loc[arch_id(good), "status"] == "ok"


@pytest.mark.slow
def test_resume_measures_only_what_is_missing(tmp_path):
    archs = [_chain((1,)), _chain((3,)), _chain((1, 1))]
    path = tmp_path / "n.csv"
    measure_architectures(archs[:1], path, _timer())  # an "interrupted" run: one row written
    with open(path, "a") as fh:  # and a partial row a killed writer left behind
        fh.write(arch_id(archs[1])[:10])
    with pytest.warns(UserWarning, match="partial last row"):
        run = measure_architectures(archs, path, _timer(), repeats=2)
    assert run.skipped == [network_key(arch_id(archs[0]), 1)]
    assert len(run.measured) == 5
    df = read_networks(path)
    assert len(df) == 6 and sorted(df["repeat"].value_counts()) == [3, 3]
    again = measure_architectures(archs, path, _timer(), repeats=2)
    assert not again.measured and len(again.skipped) == 6


def test_second_pass_starts_after_the_first(tmp_path):
    archs = [_chain((1,)), _chain((3,))]
    run = measure_architectures(archs, tmp_path / "n.csv", _timer(), repeats=2)
    assert [k.rsplit(":", 1)[1] for k in run.measured] == ["1", "1", "2", "2"]


def test_interleaving_timer_measures_both_passes_in_one_group(tmp_path):
    archs = [_chain((1,)), _chain((3,)), _chain((1, 1))]
    timer = make_timer(
        "cpu",
        TimingConfig(warmup_ms=1, budget_ms=4, rounds=2, reference=DRIFT_REFERENCE),
        threads=1,
    )
    groups: set[int] = set()
    run = measure_architectures(
        archs, tmp_path / "n.csv", timer, repeats=2, on_round=lambda d, r, n: groups.add(n)
    )
    assert groups == {6}  # A1 B1 C1 A2 B2 C2 in every round, not one pass after the other
    assert [k.rsplit(":", 1)[1] for k in run.measured] == ["1"] * 3 + ["2"] * 3
    df = read_networks(tmp_path / "n.csv")
    assert df["reference_ms"].nunique() == 1  # one drift reference for both passes


def test_pass_items_keep_every_pass_of_a_network_in_its_group():
    a, b, c = _chain((1,)), _chain((3,)), _chain((1, 1))
    items, groups = pass_items([a, b, c], 2, 4)
    assert items == [(a, 1), (b, 1), (a, 2), (b, 2), (c, 1), (c, 2)]
    assert groups == [0, 0, 0, 0, 1, 1]
    assert pass_items([a, b], 2, 1) == ([(a, 1), (b, 1), (a, 2), (b, 2)], [0] * 4)


def test_read_networks_refuses_an_op_table(tmp_path):
    profile_specs([OpSpec.make("conv", (1, 8, 8, 8), kernel=1)], tmp_path / "ops.csv", _timer())
    with pytest.raises(TableError, match="latbench.networks"):
        read_networks(tmp_path / "ops.csv")


def test_cli_measure_nets_writes_and_resumes(tmp_path, capsys):
    args = [
        "measure-nets",
        "nasbench201",
        "--size",
        "small",
        "--n",
        "2",
        "--threads",
        "1",
        "--budget-ms",
        "5",
        "--warmup-ms",
        "1",
        "--out",
        str(tmp_path),
    ]
    assert main(args + ["--repeat", "2"]) == 0
    assert "measured 4" in capsys.readouterr().out
    assert main(args) == 0
    assert "already in table 2" in capsys.readouterr().out
    [path] = tmp_path.glob("*/nasbench201-small.networks.csv")
    assert path == default_networks_path(path.parent.name, "nasbench201", "small", tmp_path)
    df = read_networks(path)
    assert len(df) == 4 and set(df["size"]) == {"small"}
    assert read_architectures(df) == sample_architectures("nasbench201", 2, "small", 0)


def test_cli_measure_nets_says_when_the_draws_repeat_a_network(tmp_path, capsys, monkeypatch):
    """A small space's sampler repeats networks; the header says how many are distinct, so that
    a fresh table's "already in table" count is not a mystery."""
    import latbench.archs

    a, b = _chain((1,)), _chain((3,))
    monkeypatch.setattr(latbench.archs, "sample_architectures", lambda *args: [a, b, a])
    table = tmp_path / "n.csv"
    args = ["measure-nets", "nasbench201", "--size", "small", "--n", "3", "--threads", "1"]
    assert main(args + ["--budget-ms", "5", "--warmup-ms", "1", "--table", str(table)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "3 networks of nasbench201 (small, seed 0), 2 distinct (each measured once" in out
    assert "measured 2, already in table 1" in out


def test_cli_rejects_zero_networks(capsys):
    with pytest.raises(SystemExit) as exit_:  # a usage error, before anything runs
        main(["measure-nets", "nasbench201", "--n", "0"])
    assert exit_.value.code == 2
    assert "--n: 0 must be at least 1" in capsys.readouterr().err


def test_interleaved_passes_measure_every_network_once_per_repeat(tmp_path):
    archs = [_chain((1, 3)), _chain((3, 3, 3)), _chain((1, 3))]  # the first listed twice
    timer = make_timer("cpu", TimingConfig(warmup_ms=1, budget_ms=6, rounds=2), threads=1)
    run = measure_architectures(archs, tmp_path / "n.csv", timer, repeats=2)
    df = read_networks(tmp_path / "n.csv")
    assert sorted(df.groupby("arch_id")["repeat"].apply(sorted)) == [[1, 2], [1, 2]]
    assert len(run.measured) == 4 and len(run.skipped) == 2
    assert (df["stop_reason"] == "rounds=2").all()


def test_a_table_written_before_canonical_ids_is_resumed_not_redone(tmp_path):
    """Tables written when arch_id hashed Architecture.to_json() hold other ids; a resumed run
    recognises their networks from arch_json."""
    import hashlib
    import json

    from latbench.tables import meta_path

    archs = [_chain((1,)), _chain((3,))]
    path = tmp_path / "n.csv"
    measure_architectures(archs, path, _timer())
    side = json.loads(meta_path(path).read_text())
    assert side.pop("arch_id_scheme") == "canonical-1"
    meta_path(path).write_text(json.dumps(side))  # as written before: no scheme, old ids
    text = path.read_text()
    for a in archs:
        text = text.replace(arch_id(a), hashlib.sha1(a.to_json().encode()).hexdigest())
    path.write_text(text)
    again = measure_architectures(archs, path, _timer())
    assert not again.measured and len(again.skipped) == 2
