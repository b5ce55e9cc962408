"""Stable ids shared by every table kind: architectures (``arch_id``) and protocols."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from latbench.architecture import Architecture


def arch_id(arch: Architecture) -> str:
    """sha1 (40 hex digits) of ``Architecture.canonical_json()``: no node names, edge order,
    name, genotype or meta, so the same network has one id however it was written."""
    return hashlib.sha1(arch.canonical_json().encode()).hexdigest()


ARCH_ID_SCHEME = "canonical-1"
"""The side-car's ``arch_id_scheme`` of tables whose ``arch_id`` is ``arch_id`` above; a table
without it was written when the id hashed ``Architecture.to_json()`` (names, edge order)."""


def row_arch_ids(table: Any) -> list[str]:
    """Each row's ``arch_id`` as ``arch_id`` computes it: stored in a table of
    ``ARCH_ID_SCHEME``, else from the row's ``arch_json`` (an older table resumes without
    re-measuring); rows without an architecture keep what they hold."""
    stored = [str(a) for a in table["arch_id"]]
    meta = table.attrs.get("meta") or {}
    if meta.get("arch_id_scheme") == ARCH_ID_SCHEME or "arch_json" not in table:
        return stored
    cache: dict[str, str] = {}
    out = []
    for aid, text in zip(stored, table["arch_json"]):
        if not isinstance(text, str) or not text:
            out.append(aid)
            continue
        if text not in cache:
            cache[text] = arch_id(Architecture.from_json(text))
        out.append(cache[text])
    return out


def protocol_id(protocol: Mapping[str, Any]) -> str:
    """Short id (12 hex digits of sha1) of a measuring protocol: its fields as sorted JSON.
    Rows carry it; a re-run skips only rows of the same protocol id."""
    text = json.dumps(dict(protocol), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]
