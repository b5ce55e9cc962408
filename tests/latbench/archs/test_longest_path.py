"""One longest-path DP (``latbench.architecture.longest_path``): its three callers agree with
networkx's DAG longest path on random architectures of two spaces and on random dense cells."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from latbench.archs import sample_architectures
from latbench.papers.rtdnas.search import longest_path as cell_longest_path
from latbench.predictors.batch import encode


def _oracle(arch, cost: dict[str, float]) -> float:
    g = nx.MultiDiGraph()
    for e in arch.edges:
        for s in e.src:
            g.add_edge(s, e.dst, w=cost[e.op.key])
    # positive costs: the longest path to the output starts at the input and lies in its ancestors
    return nx.dag_longest_path_length(
        g.subgraph(nx.ancestors(g, arch.output) | {arch.output}), weight="w"
    )


@pytest.mark.parametrize("space", ["nasbench201", "msnas"])
def test_architecture_and_batch_longest_paths_agree_with_networkx(space):
    archs = sample_architectures(space, 8, seed=5)
    batch = encode(archs)
    op_cost = np.random.default_rng(0).uniform(0.1, 2.0, len(batch.ops))
    cost = {op.key: float(c) for op, c in zip(batch.ops, op_cost)}
    batched = batch.features(op_cost)["longest_path"]
    for arch, b in zip(archs, batched):
        one = arch.longest_path(lambda e: cost[e.op.key])
        assert one == pytest.approx(_oracle(arch, cost))
        assert b == pytest.approx(one)


@pytest.mark.parametrize("seed", range(3))
def test_rtdnas_cell_longest_path_agrees_with_networkx(seed):
    rng = np.random.default_rng(seed)
    n = 5
    edge_ms = [torch.tensor(rng.uniform(0.1, 2.0, i)) for i in range(1, n + 1)]
    g = nx.DiGraph()
    for i, e in enumerate(edge_ms, start=1):
        for j in range(i):
            g.add_edge(j, i, w=float(e[j]))
    assert cell_longest_path(edge_ms).item() == pytest.approx(nx.dag_longest_path_length(g, "w"))
