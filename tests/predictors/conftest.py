"""Fixtures of the predictor tests (helpers live in ``synthetic.py``)."""

from __future__ import annotations

import pytest

from latbench.archs import sample_architectures
from latbench.opspec import OpSpec
from latbench.spaces import get_space


@pytest.fixture(scope="session")
def nb201_ops() -> list[OpSpec]:
    return get_space("nasbench201").ops("small")


@pytest.fixture(scope="session")
def nb201_archs():
    return sample_architectures("nasbench201", 40, "small", seed=3)
