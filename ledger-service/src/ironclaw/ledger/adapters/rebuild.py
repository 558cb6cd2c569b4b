"""Replay events into fresh projections: `rebuild` replaces the live ones; `check` compares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, text

from ironclaw.contracts.events import parse_payload
from ironclaw.ledger.adapters.database import is_postgres, read_snapshot, write_transaction
from ironclaw.ledger.adapters.sql_store import TABLES
from ironclaw.ledger.adapters.tables import events, snapshots
from ironclaw.ledger.domain.projector import project
from ironclaw.ledger.domain.records import EventRecord
from ironclaw.ledger.domain.snapshots import take_snapshot
from ironclaw.ledger.domain.store import KEY_COLUMNS, Key, MemoryStore, Row, key_of

Progress = Callable[[int], None]
CHUNK = 2000


@dataclass
class Replay:
    store: MemoryStore
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0


@dataclass(frozen=True)
class Difference:
    table: str
    key: Key
    live: Row | None
    rebuilt: Row | None

    def describe(self) -> str:
        if self.live is None:
            return f"{self.table}{list(self.key)}: missing from the live projection"
        if self.rebuilt is None:
            return f"{self.table}{list(self.key)}: in the live projection but not in the events"
        changed = sorted(k for k in self.rebuilt if self.live.get(k) != self.rebuilt[k])
        shown = ", ".join(
            f"{k}: live={self.live.get(k)!r} rebuilt={self.rebuilt[k]!r}" for k in changed
        )
        return f"{self.table}{list(self.key)}: {shown}"


def replay(
    connection: Connection, *, snapshot_every: int, progress: Progress | None = None
) -> Replay:
    """Project every event, in position order, into an in-memory store."""
    result = Replay(MemoryStore())
    query = select(
        events.c.id,
        events.c.stream_id,
        events.c.version,
        events.c.type,
        events.c.data,
        events.c.recorded_at,
    ).order_by(events.c.position)
    rows = connection.execute(query.execution_options(yield_per=CHUNK))
    for row in rows:
        record = EventRecord(
            row.id, row.stream_id, row.version, parse_payload(row.type, row.data), row.recorded_at
        )
        project(result.store, record)
        snapshot = take_snapshot(result.store, record, snapshot_every)
        if snapshot is not None:
            result.snapshots.append(snapshot)
        result.events += 1
        if progress is not None and result.events % CHUNK == 0:
            progress(result.events)
    return result


def rebuild(engine: Engine, *, snapshot_every: int, progress: Progress | None = None) -> int:
    """Drop and replay the projections and snapshots; appends wait until it is done."""
    with write_transaction(engine) as connection:
        if is_postgres(connection):
            connection.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))
        result = replay(connection, snapshot_every=snapshot_every, progress=progress)
        for name, table in TABLES.items():
            connection.execute(delete(table))
            _insert_chunked(connection, name, list(result.store.tables[name].values()))
        connection.execute(delete(snapshots))
        _insert_chunked(connection, "snapshots", result.snapshots)
    return result.events


def check(engine: Engine, *, snapshot_every: int) -> list[Difference]:
    """Differences between the live projections and a replay of the log (empty: identical)."""
    with read_snapshot(engine) as connection:
        result = replay(connection, snapshot_every=snapshot_every)
        live = {name: _live_rows(connection, name) for name in KEY_COLUMNS}
    differences = []
    for name in KEY_COLUMNS:
        rebuilt = {key_of(name, row): row for row in result.store.tables[name].values()}
        for key in sorted(set(live[name]) | set(rebuilt), key=str):
            if live[name].get(key) != rebuilt.get(key):
                differences.append(Difference(name, key, live[name].get(key), rebuilt.get(key)))
    return differences


def _live_rows(connection: Connection, name: str) -> dict[Key, Row]:
    rows = connection.execute(select(TABLES[name])).mappings()
    return {key_of(name, dict(row)): dict(row) for row in rows}


def _insert_chunked(connection: Connection, name: str, rows: list[Row]) -> None:
    table = snapshots if name == "snapshots" else TABLES[name]
    for start in range(0, len(rows), CHUNK):
        connection.execute(insert(table), rows[start : start + CHUNK])
