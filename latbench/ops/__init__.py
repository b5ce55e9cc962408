"""Op kinds: the registry (``register_op``, ``get_op_kind``, ``list_op_kinds``) and the built-in
kinds' modules, which ``latbench.builtin`` (latbench's own plugin) imports so that they register
through the same loader as a user's (``latbench.plugins``)."""

from latbench.ops import params
from latbench.ops.registry import REQUIRED, OpKind, get_op_kind, list_op_kinds, register_op

__all__ = ["REQUIRED", "OpKind", "get_op_kind", "list_op_kinds", "params", "register_op"]
