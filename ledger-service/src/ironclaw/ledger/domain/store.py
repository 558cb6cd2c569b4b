"""The projection store interface, and the in-memory store used by rebuild, check and tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, Protocol

Row = dict[str, Any]
Key = tuple[str | int | date, ...]

KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "runs": ("run_id",),
    "orders": ("order_id",),
    "attempts": ("order_id", "attempt"),
    "theaters": ("name",),
    "profiles": ("name",),
    "usage": ("day", "theater"),
}


def key_of(table: str, row: Row) -> Key:
    return tuple(row[column] for column in KEY_COLUMNS[table])


def entity_of_stream(stream_id: str) -> tuple[str, Key] | None:
    """The projection row a stream describes (table, key); None for streams without one."""
    if stream_id.startswith("run_"):
        return "runs", (stream_id,)
    if stream_id.startswith("ord_"):
        return "orders", (stream_id,)
    if stream_id.startswith("theater-"):
        return "theaters", (stream_id.removeprefix("theater-"),)
    if stream_id.startswith("profile-"):
        return "profiles", (stream_id.removeprefix("profile-"),)
    return None


class ProjectionStore(Protocol):
    """Rows of the projection tables, read for update and written back by the projector.

    `get` may hand out the stored row itself: the projector edits it and `put`s it back, and a
    refused event aborts the whole append, so a half-edited row is never kept.
    """

    def get(self, table: str, key: Key) -> Row | None: ...

    def put(self, table: str, row: Row) -> None: ...


class MemoryStore:
    """Projections held in dictionaries: a replay target that never touches the database."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Key, Row]] = {name: {} for name in KEY_COLUMNS}

    def get(self, table: str, key: Key) -> Row | None:
        return self.tables[table].get(key)

    def put(self, table: str, row: Row) -> None:
        self.tables[table][key_of(table, row)] = row

    def rows(self, table: str) -> Iterator[Row]:
        for key in sorted(self.tables[table], key=str):
            yield self.tables[table][key]
