"""Stable ids shared by every table: architectures (``arch_id``) and protocols.

One definition, so a memory table and a networks table of the same architectures join on
``arch_id``, and every table kind hashes its protocol the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Protocol


class _HasJson(Protocol):
    def canonical_json(self) -> str: ...


def arch_id(arch: _HasJson) -> str:
    """The architecture's id: sha1 (40 hex digits) of ``Architecture.canonical_json()``, the
    network without node names, edge order (among orders computing the same), name, genotype
    or meta: the same network has one id whichever way it was written."""
    return hashlib.sha1(arch.canonical_json().encode()).hexdigest()


def protocol_id(protocol: Mapping[str, Any]) -> str:
    """Short id (12 hex digits of sha1) of a measuring protocol: its fields as sorted JSON.

    Rows carry it; a re-run skips only rows of the same protocol id.
    """
    text = json.dumps(dict(protocol), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]
