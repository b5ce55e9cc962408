"""Built-in op kinds. Importing this package registers them; use ``get_op_kind``/``list_op_kinds``."""

from latbench.ops import (aggregate, basic, blocks, deform, mobilenetv3, traced,  # noqa: F401
                          transformer)
from latbench.ops.registry import REQUIRED, OpKind, get_op_kind, list_op_kinds, register_op

__all__ = ["REQUIRED", "OpKind", "get_op_kind", "list_op_kinds", "register_op"]
