"""``time_guarded_many``: what a batch leaves behind in the process's garbage collector."""

from __future__ import annotations

import gc
import weakref

from latbench.timed import time_guarded_many
from latbench.timing import TimingConfig, make_timer

TIMER = make_timer("cpu", TimingConfig(budget_ms=1.0, warmup_ms=0.5), threads=1)


class _Cycle:
    def __init__(self) -> None:
        self.me = self  # only the cycle collector can free this


def _maker(refs: list[weakref.ref]):
    def make():
        held = _Cycle()
        refs.append(weakref.ref(held))
        return lambda: held

    return make


def test_cyclic_garbage_of_a_batch_is_collected_and_the_collector_left_as_found():
    refs: list[weakref.ref] = []
    before = _Cycle()  # made before the batch: not the batch's to collect, but not kept either
    probe = weakref.ref(before)
    del before
    results = time_guarded_many([_maker(refs), _maker(refs)], TIMER)
    assert [fields["status"] for fields, _ in results] == ["ok", "ok"]
    assert len(refs) == 2 and all(r() is None for r in refs)  # the batch's own cycles freed
    assert gc.get_freeze_count() == 0  # nothing left frozen
    gc.collect()
    assert probe() is None  # the older cycle is collectable as usual afterwards


def test_a_callers_own_frozen_objects_stay_frozen():
    mine = _Cycle()
    probe = weakref.ref(mine)
    gc.freeze()
    try:
        del mine  # garbage now, but frozen: no collection may free it while frozen
        refs: list[weakref.ref] = []
        time_guarded_many([_maker(refs)], TIMER)
        gc.collect()
        assert probe() is not None and refs[0]() is None  # still frozen; the batch's freed
    finally:
        gc.unfreeze()
    gc.collect()
    assert probe() is None


def test_what_a_failing_callable_held_is_collected_too():
    refs: list[weakref.ref] = []

    def make():
        held = _Cycle()
        refs.append(weakref.ref(held))

        def run():
            raise ValueError(f"bad op {held!r}")  # the traceback's frame holds `held`

        return run

    ((fields, measurement),) = time_guarded_many([make], TIMER)
    assert fields["status"] == "error" and "bad op" in fields["error"] and measurement is None
    assert refs[0]() is None


def test_an_interrupt_during_the_batch_collection_leaves_nothing_frozen(monkeypatch):
    """Ctrl-C lands in the closing gc.collect: the objects frozen for the batch are unfrozen
    anyway (else every later batch saw a caller's freeze and nothing old was collected again)."""
    calls = []

    def interrupted(*args: object) -> int:
        calls.append(args)
        raise KeyboardInterrupt

    monkeypatch.setattr(gc, "collect", interrupted)
    try:
        time_guarded_many([_maker([])], TIMER)
    except KeyboardInterrupt:
        pass
    finally:
        monkeypatch.undo()
    frozen = gc.get_freeze_count()
    gc.unfreeze()  # whatever the outcome, do not leave the test process frozen
    assert calls and frozen == 0


def test_a_train_step_computes_fresh_gradients_from_a_dense_incoming_one():
    """Timed calls of a train-mode op accumulated into .grad and sent sum()'s stride-0
    gradient: extra work a training step does not do (BatchNorm read 71 % slower)."""
    import torch

    from latbench.timed import module_callable

    torch.manual_seed(0)
    module = torch.nn.Linear(4, 3)
    x = torch.randn(2, 4, requires_grad=True)
    step = module_callable(module, (x,), "train")
    step()
    step()
    incoming = torch.ones(2, 3)
    assert torch.allclose(module.weight.grad, incoming.T @ x.detach())  # one step's, not two
    assert torch.allclose(x.grad, incoming @ module.weight.detach())
