"""latbench: per-op latency and GPU-memory tables measured on devices, for hardware-aware NAS.

Importing latbench changes no global state (no logging configuration, no sys.path edits).
"""

from latbench.errors import LatbenchError
from latbench.opspec import OpSpec

__version__ = "0.1.0"

__all__ = ["LatbenchError", "OpSpec", "__version__"]
