"""Stream snapshots: the projected state of a stream's entity at every N-th version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ironclaw.ledger.domain.records import EventRecord
from ironclaw.ledger.domain.store import ProjectionStore, Row, entity_of_stream


def snapshot_due(version: int, every: int) -> bool:
    return version % every == 0


def snapshot_state(store: ProjectionStore, stream_id: str) -> dict[str, Any] | None:
    """The entity a stream describes, as JSON; None for streams without one (patrols)."""
    entity = entity_of_stream(stream_id)
    row = store.get(*entity) if entity is not None else None
    if entity is None or row is None:
        return None
    table, _ = entity
    if table != "orders":
        return {table.removesuffix("s"): _jsonable(row)}
    attempts = [store.get("attempts", (stream_id, n)) for n in range(1, row["attempt"] + 1)]
    return {"order": _jsonable(row), "attempts": [_jsonable(a) for a in attempts if a is not None]}


def take_snapshot(store: ProjectionStore, record: EventRecord, every: int) -> dict[str, Any] | None:
    """The snapshot row to store after `record` was projected, if one is due."""
    if not snapshot_due(record.version, every):
        return None
    state = snapshot_state(store, record.stream_id)
    if state is None:
        return None
    return {
        "stream_id": record.stream_id,
        "version": record.version,
        "state": state,
        "created_at": record.recorded_at,
    }


def _jsonable(row: Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
