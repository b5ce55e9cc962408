"""Meta-tensor traces of training steps: engines agree, caching is invisible, sizes scale."""

from __future__ import annotations

import pytest

from latbench.architecture import INPUT, Architecture, Edge
from latbench.errors import LatbenchError
from latbench.memory import trace as trace_mod
from latbench.memory.allocator import replay_allocator, replay_live
from latbench.memory.steps import TrainConfig
from latbench.memory.trace import trace_training
from latbench.memory.workspace import cpu_conv_workspace
from latbench.opspec import OpSpec


def chain(channels: int = 8, size: int = 16, layers: int = 3, batch: int = 1) -> Architecture:
    """A hand-built 3D net: conv-IN-ReLU blocks in a chain, plus a skip into the last node."""
    op = OpSpec.make("conv", (batch, channels, size, size, size), norm="in", act="relu")
    edges = [Edge((INPUT if i == 0 else f"n{i}",), f"n{i + 1}", op) for i in range(layers)]
    edges.append(Edge(("n1",), f"n{layers}", OpSpec.make("identity", op.input_shape)))
    return Architecture("hand3d", tuple(edges), f"n{layers}")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_meta_tensor_traces_match_the_trace_of_real_cpu_compute(optimizer):
    config = TrainConfig(optimizer=optimizer)
    real, meta = (trace_training(chain(), config, engine=e) for e in ("real", "meta"))
    tolerance = 64 if optimizer == "adam" else 0  # Adam's 4-byte CPU step counters
    assert abs(replay_live(meta).peak_live_bytes - replay_live(real).peak_live_bytes) <= tolerance
    assert replay_allocator(meta).peak_reserved_bytes == replay_allocator(real).peak_reserved_bytes


def test_setup_is_parameters_plus_input_and_activations_scale_with_batch():
    one = replay_live(trace_training(chain(size=24)))
    two = replay_live(trace_training(chain(size=24, batch=2)))
    params = 3 * (8 * 8 * 27 + 2 * 8) * 4
    assert one.setup_bytes == params + 8 * 24**3 * 4
    assert two.growth_live_bytes == pytest.approx(2 * one.growth_live_bytes, rel=0.02)
    assert one.peak_phase.startswith("step2/")  # optimizer state exists from step 1 on


def test_output_cache_does_not_change_the_trace():
    trace_mod._OUTPUT_CACHE.clear()
    cold = trace_training(chain())
    warm = trace_training(chain())
    assert len(trace_mod._OUTPUT_CACHE) > 0
    assert cold.events == warm.events and cold.marks == warm.marks


def test_allocator_adds_rounding_and_caching():
    train = replay_allocator(trace_training(chain()))
    assert train.peak_live_bytes <= train.peak_allocated_bytes <= train.peak_reserved_bytes


def test_op_subject_and_config_errors():
    spec = OpSpec.make("conv", (1, 4, 8, 8, 8), kernel=1)
    trace = trace_training(spec, TrainConfig(steps=1, batch=3))
    assert trace.meta["input_shape"] == [3, 4, 8, 8, 8] and trace.meta["n_ops"] == 1
    with pytest.raises(LatbenchError, match="'rmsprop' is not one of sgd, adam, adamw"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(LatbenchError, match="engine 'gpu' is not one of meta, real"):
        trace_training(spec, engine="gpu")


@pytest.mark.parametrize("engine", ["meta", "real"])
def test_a_network_failing_in_train_mode_is_one_error_naming_it(engine):
    """Batch norm over one value per channel runs in eval (how `--model` graphs are traced)
    but not in a training step: `memory --predict --input-shape 1,3,1,1` was a traceback."""
    spec = OpSpec.make("conv", (1, 8, 1, 1), norm="bn")
    with pytest.raises(
        LatbenchError,
        match=r"fails in a traced training step on a 1x8x1x1 "
        r"input: ValueError: Expected more than 1 value per channel",
    ):
        trace_training(spec, TrainConfig(steps=1), engine=engine)


def test_cpu_slow_conv3d_workspace_is_the_column_buffer():
    small = OpSpec.make("conv", (1, 8, 16, 16, 16))  # PyTorch's CPU picks slow_conv3d here
    plain = replay_live(trace_training(small, TrainConfig(steps=1))).peak_live_bytes
    with_ws = replay_live(
        trace_training(small, TrainConfig(steps=1), workspace=cpu_conv_workspace)
    ).peak_live_bytes
    columns = 8 * 27 * 16**3 * 4
    assert 0 < with_ws - plain <= columns
    pointwise = OpSpec.make("conv", (1, 8, 16, 16, 16), kernel=1)  # no unfolding needed
    assert replay_live(trace_training(pointwise, workspace=cpu_conv_workspace)) == replay_live(
        trace_training(pointwise)
    )


def _canonical(events):
    """Events with handles renumbered in order of first appearance."""
    names: dict[int, int] = {}
    return [(kind, names.setdefault(h, len(names)), n) for kind, h, n in events]


@pytest.mark.parametrize("config", [TrainConfig(), TrainConfig(optimizer="sgd", steps=3)])
def test_repeating_step_one_gives_the_traced_sequence_of_later_steps(config):
    full = trace_training(chain(), config, repeat_first_step=False)
    repeated = trace_training(chain(), config)
    assert _canonical(repeated.events) == _canonical(full.events)
    assert repeated.marks == full.marks
