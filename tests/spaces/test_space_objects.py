"""One object per space: its ops, its sampler and its search layout, reached by name."""

from __future__ import annotations

import re

import pytest

from latbench.archs import sample_architectures
from latbench.errors import LatbenchError
from latbench.spaces import default_size, get_space, register_layout
from latbench.spaces.registry import Space, register_sampler, spaces_with_architectures


def test_sampler_lives_on_the_space_and_matches_the_old_entry_point():
    space = get_space("msnas")
    assert space.sampler is not None
    a = space.sample(3, "small", seed=4)
    b = sample_architectures("msnas", 3, "small", seed=4)
    assert [x.genotype for x in a] == [x.genotype for x in b]
    assert (
        "msnas" in spaces_with_architectures()
        and "stnas-encoder" not in spaces_with_architectures()
    )


def test_space_without_sampler_or_layout_says_so():
    with pytest.raises(LatbenchError, match="no architecture sampler; spaces with one: .*msnas"):
        get_space("stnas-encoder").sample(1)
    with pytest.raises(LatbenchError, match="has no search layout"):
        get_space("nasbench201").layout("small")


@pytest.mark.parametrize("name", ["stnas-encoder", "stnas-decoder", "cakes", "msnas"])
def test_layouts_hold_only_ops_of_the_space(name):
    space = get_space(name)
    ops = set(space.ops("small"))
    layout = space.layout("small")
    listed = [v for v in vars(layout).values()]
    flat = []
    stack = list(listed)
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif item is not None and not isinstance(item, int):
            flat.append(item)
    assert flat and set(flat) <= ops


def test_stnas_decoder_ops_use_the_fields_names():
    layout = get_space("stnas-decoder").layout("small")
    assert "sep_conv_3x3" in layout.op_names and "skip_connect" in layout.op_names
    assert all(tuple(layer) == layout.op_names for layer in layout.layers)


def test_default_size_is_an_attribute_and_a_function():
    assert get_space("msnas").default_size == default_size("msnas") == "small"


def test_attaching_twice_or_to_an_unknown_space_is_refused():
    with pytest.raises(ValueError, match="two samplers"):
        register_sampler("msnas")(lambda size, rng: None)
    with pytest.raises(ValueError, match="unregistered space 'nope'"):
        register_layout("nope")(lambda size: None)


def _raise(*_args):
    raise ValueError("oops")


def test_a_spaces_own_code_that_raises_or_gives_garbage_is_one_error_naming_it():
    """A plugin's ops, sampler or layout: a traceback (or an AttributeError far away in the
    command that used the result) before."""
    spec = get_space("msnas").ops("small")[0]
    good = Space("good", "x", lambda size: (s for s in [spec, spec]))  # any iterable
    assert good.ops("small") == [spec]
    for space, call, needle in (
        (Space("b", "x", _raise), lambda s: s.ops("small"), "its ops (small) raised ValueError"),
        (Space("b", "x", lambda size: ["x", 3]), lambda s: s.ops(), "its ops gave a str ('x')"),
        (Space("b", "x", list, sampler=_raise), lambda s: s.sample(1), "its sampler (small) rai"),
        (
            Space("b", "x", list, sampler=lambda size, rng: "arch"),
            lambda s: s.sample(2),
            "its sampler gave a str ('arch'); expected Architectures",
        ),
        (Space("b", "x", list, build_layout=_raise), lambda s: s.layout(), "its layout (small)"),
    ):
        with pytest.raises(LatbenchError, match=re.escape(f"space 'b': {needle}")):
            call(space)
