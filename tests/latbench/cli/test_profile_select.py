"""`latbench profile --match/--sample`: which ops of a space get measured."""

from __future__ import annotations

import pytest

from latbench.cli.profile import select_specs
from latbench.errors import LatbenchError
from latbench.spaces import get_space


def test_match_keeps_matching_keys_and_sample_is_seeded_in_order() -> None:
    specs = get_space("ofa-mbv3").ops("small")
    blocks = select_specs(specs, ["mbv3_block|*"], None)
    assert blocks and all(s.kind == "mbv3_block" for s in blocks)
    a = select_specs(specs, ["mbv3_block|*", "linear|*"], 5, seed=1)
    assert a == select_specs(specs, ["mbv3_block|*", "linear|*"], 5, seed=1)
    assert len(a) == 5 and a == sorted(a, key=specs.index)
    assert a != select_specs(specs, ["mbv3_block|*", "linear|*"], 5, seed=2)
    assert select_specs(specs, None, 10_000) == specs


def test_nothing_matched_is_one_clear_error() -> None:
    """(--sample 0: test_bad_input_cases, a usage error of its type.)"""
    specs = get_space("ofa-mbv3").ops("small")
    with pytest.raises(LatbenchError, match="no op key matches"):
        select_specs(specs, ["nope*"], None)


def test_a_long_run_says_up_front_what_it_will_cost() -> None:
    from latbench.cli.profile import cost_note
    from latbench.timing import TimingConfig

    paper = TimingConfig(warmup_ms=50, budget_ms=1000, rounds=20)
    note = cost_note(7542, paper)  # ofa-mbv3 at size paper
    assert note is not None and "7542 ops takes up to about 163 min" in note and "--sample" in note
    assert "not counted" in note
    assert cost_note(40, paper) is None  # under a minute: nothing to say
    fleet = cost_note(7542, paper, fleet=True)  # a fleet's tables are on its machines
    assert fleet is not None and "not counted" not in fleet and "counted here" in fleet


def test_the_cost_note_counts_only_the_ops_still_to_measure(tmp_path) -> None:
    """A re-run skips the ops its table holds under the same protocol: the note counts the
    rest (it counted every op, so a resumed long run was announced at full length)."""
    import dataclasses

    from latbench.cli.profile import still_to_measure
    from latbench.opspec import OpSpec
    from latbench.profile import OpLatencyJob, profile_specs
    from latbench.timing import TimingConfig, make_timer

    specs = [OpSpec.make("conv", (1, 4, 4, 4), kernel=k) for k in (1, 3, 5)]
    path = tmp_path / "t.csv"
    timer = make_timer("cpu", TimingConfig(warmup_ms=1, budget_ms=5, min_samples=3), threads=1)
    job = OpLatencyJob.of(timer)
    assert still_to_measure(specs, path, job) == specs  # no table yet
    profile_specs(specs[:2], path, timer)
    assert still_to_measure(specs, path, job) == specs[2:]
    other = dataclasses.replace(job, protocol={**job.protocol, "budget_ms": 7.0})
    assert still_to_measure(specs, path, other) == specs
