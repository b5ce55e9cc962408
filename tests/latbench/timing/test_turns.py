"""``on_turn``: the measuring code says which callable of a batch runs, at every switch."""

from __future__ import annotations

import pytest
import torch

from latbench.timed import time_guarded_many
from latbench.timing import CpuTimer, TimingConfig, measure_each
from latbench.timing.cpu import CpuSampler


class Log:
    """A fake clock; ops advance it and log their name, turns log ``turn <i>``."""

    def __init__(self) -> None:
        self.now, self.events = 0, []

    def __call__(self) -> int:
        return self.now

    def op(self, name: str, cost_ms: float = 1.0):
        def run() -> None:
            self.events.append(name)
            self.now += int(cost_ms * 1e6)

        return run

    def turn(self, i: int) -> None:
        self.events.append(f"turn {i}")

    def check_every_call_follows_its_turn(self, names: list[str]) -> list[int]:
        """Each op call comes after a turn naming that op's index; returns the turns."""
        current, turns = None, []
        for event in self.events:
            if event.startswith("turn "):
                current = int(event.split()[1])
                turns.append(current)
            else:
                assert current is not None and names[current] == event, (event, current)
        return turns


def config(rounds: int) -> TimingConfig:
    return TimingConfig(
        warmup_ms=2, budget_ms=20, min_sample_ms=0.0, min_samples=1000, rounds=rounds
    )


@pytest.mark.parametrize("rounds", [1, 4])
def test_every_call_is_preceded_by_a_turn_naming_its_callable(rounds):
    log = Log()
    names = ["a", "b", "c", "ref"]
    out = measure_each(
        [log.op("a"), log.op("b", 2.0), log.op("c")],
        CpuSampler(log),
        config(rounds),
        on_turn=log.turn,
        reference=log.op("ref") if rounds > 1 else None,
    )
    turns = log.check_every_call_follows_its_turn(names)
    assert all(not isinstance(m, Exception) for m in out)
    if rounds == 1:
        assert turns == [0, 1, 2]  # one measure_adaptive each
    else:  # warm-ups, then one turn per callable and round; the reference is index 3
        assert turns == [0, 1, 2, 3] + [0, 1, 2, 3] * rounds


def test_a_dropped_callable_gets_no_more_turns():
    log = Log()
    calls = {"n": 0}

    def flaky() -> None:
        calls["n"] += 1
        if calls["n"] > 8:
            raise RuntimeError("fails in round 2")
        log.op("flaky")()

    measure_each([log.op("a"), flaky], CpuSampler(log), config(4), on_turn=log.turn)
    turns = [int(e.split()[1]) for e in log.events if e.startswith("turn")]
    assert turns.count(0) == 5 and 2 <= turns.count(1) < 5


def test_builds_are_turns_and_indices_skip_a_maker_that_failed():
    log = Log()

    def maker(name: str):
        def make():
            log.events.append(f"build {name}")
            if name == "b":
                raise ValueError("bad shape")
            return log.op(name)

        return make

    timer = CpuTimer(config(2), clock=log)
    out = time_guarded_many([maker("a"), maker("b"), maker("c")], timer, on_turn=log.turn)
    assert [fields["status"] for fields, _ in out] == ["ok", "error", "ok"]
    assert log.events[:6] == ["turn 0", "build a", "turn 1", "build b", "turn 2", "build c"]
    built = [e for e in log.events[6:] if not e.startswith("build")]
    log.events = built
    turns = log.check_every_call_follows_its_turn(["a", "b", "c"])
    assert set(turns) == {0, 2}  # c's turns are reported as c's index in the batch, not 1


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("graph", [False, True])
def test_the_cuda_timer_reports_turns_as_indices_of_the_batch(graph):
    from latbench.timing import make_timer

    x = torch.randn(64, 64, device="cuda")

    def bad() -> None:
        raise RuntimeError("fails in its warm-up")

    fns = (
        [lambda: x @ x, lambda: x @ x, lambda: x @ x]
        if graph
        else [lambda: x @ x, bad, lambda: x @ x]
    )
    turns: list[int] = []
    timer = make_timer("cuda", TimingConfig(warmup_ms=1, budget_ms=5, rounds=2), cuda_graph=graph)
    out = timer.measure_many(fns, on_turn=turns.append)
    if graph:  # captures, then warm-ups, then two rounds
        assert turns == [0, 1, 2] + [0, 1, 2] * 3
    else:  # bad is dropped in its warm-up; the others keep their own indices
        assert isinstance(out[1], RuntimeError) and turns == [0, 1, 2] + [0, 2] * 2
