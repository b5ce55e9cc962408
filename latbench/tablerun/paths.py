"""Where tables go by default: the user's tables, never the repository's reference data.

``device_profiles/`` in the repository holds committed *reference* tables: runs read them when
pointed at them and never append to them unless told to (``--table`` / ``--out`` naming them).
A run's own tables go under ``$LATBENCH_HOME`` when set, else ``./latbench-tables/``
(git-ignored), one folder per device slug.
"""

from __future__ import annotations

import os
from pathlib import Path

REFERENCE_DIR = Path("device_profiles")
"""Committed reference tables (read-only for runs unless named explicitly)."""

HOME_ENV = "LATBENCH_HOME"
DEFAULT_HOME = Path("latbench-tables")


def tables_home() -> Path:
    """Root of the user's tables: ``$LATBENCH_HOME``, else ``./latbench-tables``."""
    home = os.environ.get(HOME_ENV, "").strip()
    return Path(home) if home else DEFAULT_HOME


def default_table_path(slug: str, name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """``<root>/<device-slug>/<name>.csv`` with ``root`` defaulting to ``tables_home()``.

    Names used: ``<space>-<size>`` (ops), ``<space>-<size>.networks`` (whole networks),
    ``memory-<name>`` (training memory).
    """
    return Path(root if root is not None else tables_home()) / slug / f"{name}.csv"
