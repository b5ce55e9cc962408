"""The OFA MobileNetV3 row parser of ``latbench import-nets`` (space ``ofa-mbv3``).

Rows in HELP's OFA format: ``ks`` (20 kernel sizes), ``e`` (20 expand ratios), ``d`` (5 stage
depths), each ``-``-joined, and ``r`` (input resolution, px); see
``latbench.archs.ofa_mbv3``. The width multiplier is not in the file: the subnets are built
at ``latbench.archs.ofa_mbv3.DEFAULT_WIDTH`` (1.2, the width the shared HELP latencies
support; ``bench/ofa_width.py`` and docs/ofa.md say how that was
decided). The batch is the import's ``--batch``.
"""

from __future__ import annotations

from collections.abc import Mapping

from latbench.archs.graph import Architecture
from latbench.archs.ofa_mbv3 import (
    DEFAULT_WIDTH,
    ROW_COLUMNS,
    OfaConfig,
    OfaEncodingError,
    _ints,
    build_network,
)
from latbench.importing import ImportOptions, RowValueError, register_row_parser


def _column(row: Mapping[str, str], name: str) -> str:
    text = (row.get(name) or "").strip()
    if not text:
        raise RowValueError(name, "missing value", f"column {name!r} is empty")
    return text


@register_row_parser("ofa-mbv3", ROW_COLUMNS)
def parse_ofa_mbv3(row: Mapping[str, str], options: ImportOptions) -> Architecture:
    """An OFA row -> the subnet at the import's batch and the default width."""
    fields = {}
    for name in ("ks", "e", "d"):
        try:
            fields[name] = _ints(name, _column(row, name))
        except OfaEncodingError as exc:
            raise RowValueError(name, "malformed encoding", str(exc)) from None
    try:
        fields["r"] = int(_column(row, "r"))
    except ValueError:
        raise RowValueError(
            "r", "malformed resolution", f"r={row.get('r')!r} is not an integer"
        ) from None
    try:
        config = OfaConfig(fields["ks"], fields["e"], fields["d"], fields["r"], DEFAULT_WIDTH)
    except OfaEncodingError as exc:
        raise RowValueError(exc.field, "outside the space", str(exc)) from None
    return build_network(config, options.batch)
