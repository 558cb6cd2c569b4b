"""Stream snapshots: the projected state of a stream's entity at every N-th version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ironclaw.ledger.domain.records import EventRecord
from ironclaw.ledger.domain.store import ProjectionStore, Row


def snapshot_due(version: int, every: int) -> bool:
    return version % every == 0


def snapshot_state(store: ProjectionStore, stream_id: str) -> dict[str, Any] | None:
    """The entity a stream describes, as JSON; None for streams without one (patrols)."""
    if stream_id.startswith("run_"):
        run = store.get("runs", (stream_id,))
        return {"run": _jsonable(run)} if run is not None else None
    if stream_id.startswith("ord_"):
        order = store.get("orders", (stream_id,))
        if order is None:
            return None
        attempts = [store.get("attempts", (stream_id, n)) for n in range(1, order["attempt"] + 1)]
        return {
            "order": _jsonable(order),
            "attempts": [_jsonable(a) for a in attempts if a is not None],
        }
    if stream_id.startswith("theater-"):
        theater = store.get("theaters", (stream_id.removeprefix("theater-"),))
        return {"theater": _jsonable(theater)} if theater is not None else None
    return None


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
