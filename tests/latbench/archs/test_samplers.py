"""Every registered sampler: same seed same networks, valid graphs that run, ops from the space.

The last property is what lets a per-op lookup table of a space cover its whole networks.
"""

from __future__ import annotations

import math

import pytest
import torch

from latbench.archs import Architecture, sample_architectures
from latbench.spaces import get_space
from latbench.spaces.registry import spaces_with_architectures
from latbench.timing import torch_threads

SPACES = spaces_with_architectures()


@pytest.mark.parametrize("space", SPACES)
def test_same_seed_same_networks_other_seed_others(space):
    first = [a.to_json() for a in sample_architectures(space, 4, "small", seed=3)]
    again = [a.to_json() for a in sample_architectures(space, 4, "small", seed=3)]
    other = [a.to_json() for a in sample_architectures(space, 4, "small", seed=4)]
    assert first == again
    assert first != other


@pytest.mark.parametrize("size", ["small", "paper"])
@pytest.mark.parametrize("space", SPACES)
def test_every_op_of_a_sampled_network_is_in_the_space(space, size):
    listed = set(get_space(space).ops(size))
    for arch in sample_architectures(space, 8, size, seed=0):
        missing = [op.key for op in arch.ops() if op not in listed]
        assert not missing, f"{space} ({size}) network uses ops not in the space: {missing[:3]}"
        assert arch.space == space


@pytest.mark.parametrize("space", SPACES)
def test_small_networks_run_and_round_trip_through_json(space):
    torch.manual_seed(0)
    for arch in sample_architectures(space, 2, "small", seed=1):
        assert Architecture.from_json(arch.to_json()) == arch
    with torch_threads(1), torch.inference_mode():  # one network per space: forwards are slow
        out = arch.build()(*arch.example_inputs())
    assert out.shape[0] == arch.input_shape[0]
    assert math.isfinite(float(out.float().abs().sum()))
