"""``TableJob``, what each table kind implements: ``key``/``done_keys`` plan, ``measure`` turns
a batch into rows in whatever process runs it, the driver appends."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pandas as pd

from latbench.tablerun.ids import protocol_id
from latbench.tables import TableSchema
from latbench.timing.adaptive import OnTurn

Item = TypeVar("Item")
OnRound = Callable[[int, int], None]
"""``on_round(done, rounds)``: an interleaved batch finished round ``done`` of ``rounds``."""


@dataclass
class TableJob(ABC, Generic[Item]):
    """Base of the table kinds: schema, protocol, the measuring device's fingerprint.

    Subclasses implement ``key`` and ``measure``; up to ``group_size`` items are measured
    together (interleaved), their ``item_bytes`` (all held at once) at most ``group_bytes``;
    ``phase`` keeps groups from spanning passes.
    """

    schema: TableSchema
    protocol: dict[str, Any]
    fingerprint: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    group_size: int = 1
    group_bytes: float = float("inf")

    @property
    def protocol_id(self) -> str:
        return protocol_id(self.protocol)

    def side_car(self) -> dict[str, Any]:
        """What the table's side-car records besides the schema."""
        return {
            "fingerprint": self.fingerprint,
            "protocol": self.protocol,
            "protocol_id": self.protocol_id,
            **self.meta,
        }

    @abstractmethod
    def key(self, item: Item) -> str:
        """The item's primary key in the table."""

    def done_keys(self, table: pd.DataFrame) -> set[str]:
        """Keys of the rows already in ``table`` under this protocol (ok or failed alike)."""
        return set(table.loc[table["protocol_id"] == self.protocol_id, "key"])

    def key_columns(self, item: Item) -> dict[str, Any]:
        """The columns of the row recorded for an item that faulted, built from its key."""
        return {"key": self.key(item), "protocol_id": self.protocol_id, "source": "measured"}

    def phase(self, item: Item) -> Hashable:
        return None

    def item_bytes(self, item: Item) -> float:
        """Memory (bytes) an item holds while its group is measured, estimated unbuilt."""
        return 0.0

    def warm_up(self) -> None:
        """A worker's one-time costs (imports, device set-up), paid before ``--item-timeout``
        runs."""

    @abstractmethod
    def measure(
        self, items: Sequence[Item], on_round: OnRound | None = None, on_turn: OnTurn | None = None
    ) -> list[dict[str, Any]]:
        """Rows for ``items`` (same order), a failure recorded as ``status``/``error``; raises
        only on interruption. ``on_turn(i)`` before each step of item ``i`` (build, timing)."""
