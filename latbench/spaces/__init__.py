"""Built-in search spaces; importing this package registers them."""

from latbench.spaces import nasbench201  # noqa: F401
from latbench.spaces.registry import SIZES, Space, get_space, list_spaces, register_space

__all__ = ["SIZES", "Space", "get_space", "list_spaces", "register_space"]
