"""``parallel_map``: the same list as a loop, in order, in this process or a process pool.

(A predictor computing the same values in another process is checked on Ray,
``test_fleet.py::test_memory_screen_full_traces_on_ray_equal_the_serial_ones``; the local pool
runs the same ``_apply_chunk`` on pickled chunks.)"""

from __future__ import annotations

import operator
import os

import pytest

from latbench.fleet.pool import parallel_map

pytestmark = pytest.mark.slow  # starts a process pool (2-5 s)


def test_a_process_pool_returns_the_loop_s_results_in_order():
    items = list(range(37))  # more than one chunk per worker, a short last chunk
    assert parallel_map(operator.neg, items, n_jobs=2, chunk=4) == [-i for i in items]


def test_the_pool_runs_in_other_processes_and_one_job_runs_here():
    pids = set(parallel_map(_pid, range(8), n_jobs=2, chunk=2))
    assert os.getpid() not in pids
    assert parallel_map(_pid, range(3), n_jobs=1) == [os.getpid()] * 3
    assert parallel_map(operator.neg, [], n_jobs=2) == []


def _pid(_: int) -> int:
    return os.getpid()
