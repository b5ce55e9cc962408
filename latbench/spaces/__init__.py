"""Search spaces: the registry and the built-in spaces' modules (registered by
``latbench.builtin`` through the plugin loader, ``latbench.plugins``)."""

from latbench.spaces.registry import (
    SIZES,
    ChoiceLayout,
    Space,
    default_size,
    get_space,
    list_spaces,
    register_layout,
    register_space,
    size_note,
)

__all__ = [
    "SIZES",
    "ChoiceLayout",
    "Space",
    "default_size",
    "get_space",
    "list_spaces",
    "register_layout",
    "register_space",
    "size_note",
]
