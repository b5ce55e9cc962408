"""Paths built from names that come from files, sanitised to stay in the user's folder."""

from __future__ import annotations

import re
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
MAX_STEM = 100


def safe_stem(name: str, fallback: str = "arch") -> str:
    """``name`` as one file-name component: characters other than letters, digits and
    ``._+-`` become ``_``, leading dots are dropped (no ``..``, no hidden files), at most
    ``MAX_STEM`` characters; an empty result is ``fallback`` (sanitised the same way)."""
    stem = _UNSAFE.sub("_", str(name)).lstrip(".")[:MAX_STEM].rstrip(".")
    if stem.strip("_"):
        return stem
    return safe_stem(fallback, "arch") if fallback != name else "arch"


def file_in(folder: str | Path, name: str, suffix: str = "", fallback: str = "arch") -> Path:
    """``folder/<safe_stem(name)><suffix>``: always directly inside ``folder``."""
    path = Path(folder) / f"{safe_stem(name, fallback)}{suffix}"
    assert path.parent == Path(folder)
    return path


def unlinked(path: str | Path) -> Path:
    """``path`` made ready for a new output: a symbolic link there (dangling or not) is removed,
    so what is written replaces it and never goes through it."""
    p = Path(path)
    if p.is_symlink():
        p.unlink()
    return p


def output_dir(path: str | Path) -> Path:
    """``path`` (a folder latbench makes inside the user's) made a real folder: a symbolic link
    there is replaced, never followed."""
    p = unlinked(path)
    p.mkdir(parents=True, exist_ok=True)
    return p
