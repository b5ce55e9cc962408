"""Profiling: rows per op, failures recorded as data, resume under the same protocol."""

from __future__ import annotations

from latbench.opspec import OpSpec
from latbench.profile import profile_specs
from latbench.tables import read_table
from latbench.timed import op_callable, time_guarded_many
from latbench.timing import TimingConfig, make_timer

FAST = TimingConfig(warmup_ms=1, budget_ms=5, min_samples=3)


class OomTimer:
    """A timer whose device always runs out of memory."""

    device = "cpu"
    config = FAST

    def describe(self):
        return {"timer": "fake-oom"}

    def measure(self, fn):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    def measure_many(self, fns, on_round=None, *, on_turn=None):
        return [RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB") for _ in fns]


def test_failing_op_is_recorded_and_the_run_goes_on(tmp_path):
    good = OpSpec.make("conv", (1, 8, 8, 8), kernel=1)
    bad = OpSpec.make("pool", (1, 8, 2, 2), kernel=5)  # a valid spec that fails to run
    run = profile_specs([bad, good], tmp_path / "t.csv", make_timer("cpu", FAST, threads=1))
    df = read_table(tmp_path / "t.csv").set_index("key")
    assert run.failed == [bad.key] and run.measured == [good.key]
    assert df.loc[bad.key, "status"] == "error" and "too small" in df.loc[bad.key, "error"]
    assert df.loc[good.key, "status"] == "ok" and df.loc[good.key, "latency_median_ms"] > 0
    assert df.loc[good.key, "flops"] == 2 * 8 * 8 * 8 * 8


def test_oom_is_a_recorded_result():
    spec = OpSpec.make("conv", (1, 8, 8, 8))
    ((row, result),) = time_guarded_many([lambda: op_callable(spec, "cpu")], OomTimer())
    assert result is None and row["status"] == "oom" and "out of memory" in row["error"]


def test_rerun_skips_measured_rows_and_a_new_protocol_measures_again(tmp_path):
    specs = [OpSpec.make("conv", (1, 8, 8, 8), kernel=k) for k in (1, 3)]
    path = tmp_path / "t.csv"
    first = profile_specs(specs, path, make_timer("cpu", FAST, threads=1))
    again = profile_specs(specs, path, make_timer("cpu", FAST, threads=1))
    other = profile_specs(specs, path, make_timer("cpu", TimingConfig(budget_ms=6), threads=1))
    assert len(first.measured) == 2 and len(again.skipped) == 2 and not again.measured
    assert len(other.measured) == 2 and other.protocol_id != first.protocol_id
    assert len(read_table(path)) == 4


def test_train_mode_times_forward_and_backward(tmp_path):
    spec = OpSpec.make("conv", (1, 8, 8, 8), mode="train")
    timer = make_timer("cpu", FAST, threads=1)
    ((row, result),) = time_guarded_many([lambda: op_callable(spec, "cpu")], timer)
    assert row["status"] == "ok" and result.median_ms > 0


def test_interleaved_profiling_records_every_op_and_the_failure(tmp_path):
    good = [OpSpec.make("conv", (1, 8, 8, 8), kernel=k) for k in (1, 3)]
    bad = OpSpec.make("pool", (1, 8, 2, 2), kernel=5)  # a valid spec that fails to run
    timer = make_timer("cpu", TimingConfig(warmup_ms=1, budget_ms=6, rounds=3), threads=1)
    run = profile_specs([good[0], bad, good[1], good[0]], tmp_path / "t.csv", timer)
    df = read_table(tmp_path / "t.csv").set_index("key")
    assert run.measured == [g.key for g in good] and run.failed == [bad.key]
    assert run.skipped == [good[0].key]  # listed twice, measured once
    assert (df.loc[[g.key for g in good], "stop_reason"] == "rounds=3").all()
    assert (df.loc[[g.key for g in good], "n_samples"] >= 3).all()
    assert df.attrs["meta"]["protocol"]["rounds"] == 3
