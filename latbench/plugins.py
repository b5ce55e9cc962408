"""Plugins' registration API in one place (docs/plugins.md); latbench's papers use it too.
Parameter checkers for ``register_op``: ``latbench.ops.params``; a ``ChoiceLayout`` makes a space
searchable by ``latbench search mixed-op``.
"""

from __future__ import annotations

from latbench.architecture import INPUT, Architecture, Edge, register_genotype
from latbench.importing import register_row_parser
from latbench.nas.searches import register_search
from latbench.ops.registry import REQUIRED, register_op
from latbench.opspec import OpSpec
from latbench.plugin_loader import load_plugins
from latbench.protocol_registry import register_protocol
from latbench.spaces.registry import ChoiceLayout, register_layout, register_sampler, register_space

__all__ = [
    "INPUT",
    "REQUIRED",
    "Architecture",
    "ChoiceLayout",
    "Edge",
    "OpSpec",
    "load_plugins",
    "register_genotype",
    "register_layout",
    "register_op",
    "register_protocol",
    "register_row_parser",
    "register_sampler",
    "register_search",
    "register_space",
]
