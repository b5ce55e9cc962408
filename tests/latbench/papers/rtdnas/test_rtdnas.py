"""RT-DNAS latency: longest path by hand and by brute force, network expectation, gradients."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from latbench.nas.errors import SearchError
from latbench.papers.rtdnas.search import (
    CellLatency,
    NetworkLatency,
    discrete_cell_latency,
    edge_latencies,
    longest_path,
    node_probs,
)


def test_longest_path_by_hand():
    # X0→X1: 1; X0→X2: 5, X1→X2: 1; X0→X3: 2, X1→X3: 7, X2→X3: 1
    edges = [torch.tensor([1.0]), torch.tensor([5.0, 1.0]), torch.tensor([2.0, 7.0, 1.0])]
    # paths to X3: 0-3 = 2; 0-1-3 = 8; 0-2-3 = 6; 0-1-2-3 = 3  -> 8
    assert longest_path(edges).item() == 8.0


def test_longest_path_matches_brute_force_and_routes_gradient():
    g = torch.Generator().manual_seed(0)
    n = 5
    edges = [torch.rand(i, generator=g).requires_grad_() for i in range(1, n + 1)]
    best, best_path = -1.0, None
    for k in range(n):
        for mid in itertools.combinations(range(1, n), k):
            nodes = (0, *mid, n)
            length = sum(edges[b - 1][a].item() for a, b in zip(nodes, nodes[1:]))
            if length > best:
                best, best_path = length, nodes
    value = longest_path(edges)
    assert value.item() == pytest.approx(best)
    value.backward()
    on_path = {(a, b) for a, b in zip(best_path, best_path[1:])}
    for i, e in enumerate(edges, start=1):
        for j in range(i):
            assert e.grad[j].item() == (1.0 if (j, i) in on_path else 0.0)


def test_node_probs_is_one_softmax_over_inputs_and_ops():
    p = node_probs(torch.tensor([[0.0, math.log(2.0)], [math.log(3.0), math.log(2.0)]]))
    assert p.flatten().tolist() == pytest.approx([1 / 8, 2 / 8, 3 / 8, 2 / 8])
    assert edge_latencies(p, torch.tensor([8.0, 16.0])).tolist() == pytest.approx([5.0, 7.0])


def test_cell_latency_by_hand_with_uniform_logits():
    cell = CellLatency(n_nodes=2, n_ops=2)
    with torch.no_grad():
        for v in cell.v:
            v.zero_()
    lat = torch.tensor([[2.0, 6.0]])
    # node 1: p = 1/2 each -> e01 = 4; node 2: p = 1/4 each -> e02 = e12 = 2
    # paths: 0-2 = 2, 0-1-2 = 6
    assert cell(lat).tolist() == pytest.approx([6.0])


def test_discrete_cell_latency_uses_only_the_chosen_edges():
    choice = [[(0, 1)], [(0, 0)]]  # X1 = op1(X0), X2 = op0(X0)
    lat = torch.tensor([[2.0, 6.0], [1.0, 3.0]])
    assert discrete_cell_latency(choice, lat).tolist() == pytest.approx([2.0, 1.0])


def test_network_latency_by_hand_and_gradients():
    op_lat = torch.tensor([[4.0], [2.0]])  # one op, two scales
    scaling = torch.tensor([[99.0, 0.0, 1.0], [0.5, 0.0, 99.0]])  # illegal entries ignored
    net = NetworkLatency(n_layers=2, n_nodes=1, op_latency_ms=op_lat, scaling_latency_ms=scaling)
    # uniform β: layer 1 from scale 0: same 1/2, contract 1/2 -> cells 4+0, 4+1
    # layer 2: at scale 0 (1/2): 1/4 * 4 + 1/4 * 5; at scale 1 (1/2): 1/4 * 2.5 + 1/4 * 2
    expected = (0.5 * 4 + 0.5 * 5) + (0.25 * 4 + 0.25 * 5 + 0.25 * 2.5 + 0.25 * 2)
    value = net()
    assert value.item() == pytest.approx(expected)
    assert net.cell_probs().sum(dim=(1, 2)).tolist() == pytest.approx([1.0, 1.0])
    value.backward()
    assert net.beta.grad.abs().sum() > 0
    assert all(v.grad is not None for v in net.cell.v)


def test_network_latency_checks_shapes():
    with pytest.raises(SearchError, match=r"\(2, 3\)"):
        NetworkLatency(2, 1, torch.ones(2, 3), torch.ones(3, 3))
