"""Where a run's tables go: ``$LATBENCH_HOME``, else ``./latbench-tables/``, one folder per
device slug; never the committed reference tables of ``device_profiles/`` unless named."""

from __future__ import annotations

import os
from pathlib import Path

REFERENCE_DIR = Path("device_profiles")

HOME_ENV = "LATBENCH_HOME"
DEFAULT_HOME = Path("latbench-tables")


def tables_home() -> Path:
    """Root of the user's tables: ``$LATBENCH_HOME``, else ``./latbench-tables``."""
    home = os.environ.get(HOME_ENV, "").strip()
    return Path(home) if home else DEFAULT_HOME


def default_table_path(slug: str, name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """``<root>/<device-slug>/<name>.csv``, ``root`` defaulting to ``tables_home()``; names:
    ``<space>-<size>`` (ops), ``<space>-<size>.networks``, ``memory-<name>``."""
    return Path(root if root is not None else tables_home()) / slug / f"{name}.csv"
