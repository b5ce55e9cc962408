"""Rewrite the op keys of latbench tables in canonical form, in place.

Keys written before hyper-parameters were canonicalised (e.g. ``kernel=[3,3,3]``,
``dilation=[1,1,1]``) name the same module as their canonical form (``kernel=3``); a strict
lookup of the canonical key would miss them and ``profile`` would measure them again. This
rewrites the ``key`` column only (every other field is kept byte for byte) and refuses a table
in which two rows would get one key under one protocol.

    PYTHONPATH=. python scripts/canonical_keys.py device_profiles/*/*.csv
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from latbench.opspec import OpSpec


def canonicalise(path: Path) -> int:
    """Rewrite ``path``'s keys; returns how many changed."""
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    if "key" not in header:
        return 0
    col, proto = header.index("key"), header.index("protocol_id")
    changed, seen = 0, set()
    for row in body:
        if not row[col].startswith("arch:"):
            key = OpSpec.from_key(row[col]).key
            changed += key != row[col]
            row[col] = key
        if (row[col], row[proto]) in seen:
            raise SystemExit(f"{path}: two rows would share key {row[col]!r}; merge by hand")
        seen.add((row[col], row[proto]))
    if changed:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, *body])
        path.write_text(out.getvalue(), encoding="utf-8")
    return changed


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {canonicalise(Path(name))} key(s) rewritten")
