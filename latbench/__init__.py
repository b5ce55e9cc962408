"""latbench: per-op latency and GPU-memory tables measured on devices, for hardware-aware NAS.

Importing it changes no global state. ``latbench.nas`` and ``latbench.predictors`` are the
repository's ``nas/`` and ``predictors/`` folders (symbolic links).
"""

from typing import TYPE_CHECKING, Any

from latbench.errors import LatbenchError

if TYPE_CHECKING:
    from latbench.opspec import OpSpec

__version__ = "0.1.0"

__all__ = ["LatbenchError", "OpSpec", "__version__"]


def __getattr__(name: str) -> Any:
    """``latbench.OpSpec`` on first use: importing latbench does not import torch (PEP 562)."""
    if name == "OpSpec":
        from latbench.opspec import OpSpec

        return OpSpec
    raise AttributeError(f"module 'latbench' has no attribute {name!r}")
