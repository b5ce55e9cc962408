"""One row per key and protocol, checked before fitting (two unlocked writers or a hand-merged
file can leave a key twice); the same key under two protocols is a re-measurement, allowed."""

from __future__ import annotations

import pandas as pd

from latbench.errors import TableError

KEY_COLUMNS = {
    "latbench.latency": ("key", "protocol_id"),
    "latbench.networks": ("arch_id", "repeat", "protocol_id"),
    "latbench.memory": ("key", "protocol_id"),
}


def duplicate_keys(df: pd.DataFrame, schema: str) -> list[str]:
    """The keys that occur more than once under one protocol in ``df`` (a table of ``schema``)."""
    cols = [c for c in KEY_COLUMNS.get(schema, ("key", "protocol_id")) if c in df.columns]
    if not cols or df.empty:
        return []
    dup = df[df.duplicated(cols, keep=False)]
    name = cols[0]
    labels = dup[name].astype(str) + (
        ":" + dup["repeat"].astype(int).astype(str) if "repeat" in cols else ""
    )
    return list(dict.fromkeys(labels))


def require_unique_keys(df: pd.DataFrame, source: str = "table") -> None:
    """Raise ``TableError`` naming (up to 3 of) the keys written twice under one protocol."""
    schema = str(df.attrs.get("meta", {}).get("schema", "latbench.latency"))
    dups = duplicate_keys(df, schema)
    if dups:
        shown = ", ".join(dups[:3]) + (f" and {len(dups) - 3} more" if len(dups) > 3 else "")
        raise TableError(
            f"{source}: {len(dups)} key(s) written more than once under one "
            f"protocol ({shown}); two runs wrote it at once or files were "
            "concatenated: keep one row per key"
        )
