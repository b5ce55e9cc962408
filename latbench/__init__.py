"""latbench: per-op latency and GPU-memory tables measured on devices, for hardware-aware NAS.

Importing latbench changes no global state (no logging configuration, no sys.path edits),
except in a source checkout that is not installed: there ``nas/`` and ``predictors/`` sit
beside ``latbench/`` (pyproject's ``package-dir`` installs them as ``latbench.nas`` and
``latbench.predictors``), and a finder for exactly those two names is added to
``sys.meta_path`` so that ``python -m latbench`` and ``python -m pytest`` run from the
repository root see the same names as an installed latbench.
"""

import importlib.util as _importlib_util
import os as _os
import sys as _sys
from typing import TYPE_CHECKING, Any

from latbench.errors import LatbenchError

if TYPE_CHECKING:
    from latbench.opspec import OpSpec

__version__ = "0.1.0"

__all__ = ["LatbenchError", "OpSpec", "__version__"]

_HERE = _os.path.dirname(_os.path.abspath(__file__))
_ROOT = _os.path.dirname(_HERE)
_SIBLINGS = ("nas", "predictors")


class _SiblingFinder:
    """Serves ``latbench.nas`` / ``latbench.predictors`` from the checkout's ``nas/`` and
    ``predictors/`` (only these two names; sub-modules then resolve through the package's
    ``__path__``)."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None):  # noqa: ARG004
        head, _, sub = name.partition(".")
        if head != "latbench" or sub not in _SIBLINGS:
            return None
        folder = _os.path.join(_ROOT, sub)
        return _importlib_util.spec_from_file_location(
            name, _os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])


if (not any(_os.path.isdir(_os.path.join(_HERE, s)) for s in _SIBLINGS)
        and _os.path.isfile(_os.path.join(_ROOT, "pyproject.toml"))
        and all(_os.path.isfile(_os.path.join(_ROOT, s, "__init__.py")) for s in _SIBLINGS)
        and not any(isinstance(f, type) and f.__name__ == "_SiblingFinder"
                    for f in _sys.meta_path)):
    _sys.meta_path.insert(0, _SiblingFinder)  # before an editable install of another checkout


def __getattr__(name: str) -> Any:
    """``latbench.OpSpec`` on first use: importing latbench does not import torch (PEP 562)."""
    if name == "OpSpec":
        from latbench.opspec import OpSpec

        return OpSpec
    raise AttributeError(f"module 'latbench' has no attribute {name!r}")
