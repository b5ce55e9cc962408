"""``arch_id`` is canonical: the same network written with its edges in another topological
order, with renamed nodes, another name or genotype text gets the same id; another network
gets another (tables join on it and evaluate leaves shots out by it)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from latbench.architecture import INPUT, Edge
from latbench.archs import Architecture, sample_architectures
from latbench.opspec import OpSpec
from latbench.tablerun.ids import arch_id


@pytest.fixture(scope="module")
def nb201() -> Architecture:
    return sample_architectures("nasbench201", 1, "small", seed=0)[0]


def _renamed(arch: Architecture, prefix: str) -> Architecture:
    names = {n: (n if n == INPUT else f"{prefix}{n}") for e in arch.edges for n in (*e.src, e.dst)}
    edges = tuple(Edge(tuple(names[s] for s in e.src), names[e.dst], e.op) for e in arch.edges)
    return replace(arch, edges=edges, output=names[arch.output])


def _swapped(arch: Architecture, i: int, j: int) -> Architecture:
    edges = list(arch.edges)
    edges[i], edges[j] = edges[j], edges[i]
    return replace(arch, edges=tuple(edges))  # __post_init__: still topological


def test_reordered_edges_keep_the_id(nb201):
    # edges 1 (s0 -> n1) and 2 (s0 -> n2) are independent; 4 and 5 both write n3
    assert nb201.edges[1].dst != nb201.edges[2].dst
    for i, j in ((1, 2), (4, 5), (2, 4)):
        other = _swapped(nb201, i, j)
        assert other.to_json() != nb201.to_json()
        assert arch_id(other) == arch_id(nb201)


def test_renamed_nodes_name_and_genotype_text_keep_the_id(nb201):
    assert arch_id(_renamed(nb201, "x_")) == arch_id(nb201)
    assert arch_id(replace(nb201, name="mine", genotype="")) == arch_id(nb201)


def test_another_network_gets_another_id(nb201):
    others = sample_architectures("nasbench201", 8, "small", seed=1)
    ids = {arch_id(a) for a in others if a.genotype != nb201.genotype}
    assert arch_id(nb201) not in ids
    # the same ops wired differently: the edge s0 -> n2 moved to read n1 instead
    e = nb201.edges[2]
    rewired = replace(nb201, edges=(*nb201.edges[:2], Edge(("n1",), e.dst, e.op), *nb201.edges[3:]))
    assert arch_id(rewired) != arch_id(nb201)


def test_sharing_a_node_is_not_the_same_as_two_equal_nodes():
    conv = OpSpec.make("conv", (1, 4, 8, 8), out=4)
    ident = OpSpec.make("identity", (1, 4, 8, 8))

    def arch(second_src: str) -> Architecture:
        return Architecture(
            "custom",
            (
                Edge((INPUT,), "a", conv),
                Edge((INPUT,), "b", conv),
                Edge(("a",), "c", ident),
                Edge((second_src,), "c", ident),
            ),
            "c",
        )

    assert arch_id(arch("b")) != arch_id(arch("a"))


def test_an_order_that_changes_the_result_keeps_its_order():
    """A node read before its last write: the reader sees a partial sum, so order counts."""
    ident = OpSpec.make("identity", (1, 4, 8, 8))
    first = Architecture(
        "custom",
        (Edge((INPUT,), "a", ident), Edge(("a",), "b", ident), Edge((INPUT,), "a", ident)),
        "b",
    )
    late = Architecture(
        "custom",
        (Edge((INPUT,), "a", ident), Edge((INPUT,), "a", ident), Edge(("a",), "b", ident)),
        "b",
    )
    assert arch_id(first) != arch_id(late)
    assert arch_id(_renamed(first, "z")) == arch_id(first)


def test_every_sampler_writes_networks_whose_order_does_not_matter():
    from latbench.spaces.registry import spaces_with_architectures

    for space in spaces_with_architectures():
        arch = sample_architectures(space, 1, "small", seed=0)[0]
        assert '"ordered"' not in arch.canonical_json(), space


def test_a_traced_models_name_is_part_of_its_id(nb201):
    """latbench.models builds a traced model from meta["model"]: that is the network."""
    a = replace(nb201, meta={"model": "timm:a", "input_shape": [1, 3, 32, 32]})
    b = replace(nb201, meta={"model": "timm:b", "input_shape": [1, 3, 32, 32]})
    assert arch_id(a) != arch_id(b) and arch_id(a) != arch_id(nb201)
