"""Built-in search spaces; importing this package registers them."""

from latbench.spaces import (  # noqa: F401
    cakes,
    dints,
    dyncell,
    msnas,
    nasbench201,
    ofa_mbv3,
    stnas_decoder,
    stnas_encoder,
)
from latbench.spaces.registry import (SIZES, Space, default_size, get_space, list_spaces,
                                      register_layout, register_space)

__all__ = ["SIZES", "Space", "default_size", "get_space", "list_spaces", "register_layout",
           "register_space"]
