"""Appending and reading events: optimistic concurrency, idempotency, projections and outbox.

One append is one transaction: the events, the projection rows they change, the snapshots that
fall due and the outbox rows for the tasks they trigger are committed together or not at all.

The global feed must never let a follower skip an event that commits late. Positions come from
an autoincrement, so on Postgres each append takes `LOCK TABLE events IN EXCLUSIVE MODE` just
before inserting its events and holds it until commit: positions are then handed out in commit
order. Everything else the append does (checks, projections, outbox) happens before the lock, so
appenders serialise only for the final insert. SQLite has one writer at a time already.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from ironclaw.contracts.api import AppendRequest, AppendResult, FeedPage, SnapshotView, StreamPage
from ironclaw.contracts.events import EventMetadata, StoredEvent
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.errors import NotFound
from ironclaw.contracts.kit.metrics import Metrics, NullMetrics, timed
from ironclaw.contracts.subscriptions import messages_for
from ironclaw.ledger.adapters.database import is_postgres, read_snapshot, write_transaction
from ironclaw.ledger.adapters.sql_store import SqlStore
from ironclaw.ledger.adapters.tables import events, outbox, snapshots
from ironclaw.ledger.domain.projector import project
from ironclaw.ledger.domain.records import EventRecord, EventRefused, LedgerError, check_stream
from ironclaw.ledger.domain.snapshots import take_snapshot

ANY_VERSION_RETRIES = 5
OUTBOX_CHANNEL = "ironclaw_outbox"
log = structlog.get_logger()


class VersionConflictError(LedgerError):
    status = 409
    title = "Version conflict"

    def __init__(self, stream_id: str, expected: int | None, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not {expected}: nothing was written",
            stream_id=stream_id,
            expected_version=expected,
            actual_version=actual,
        )


class IdReused(LedgerError):
    status = 409
    title = "Event id reused"


@dataclass
class _Pending:
    """One request's events, versioned and projected, waiting for the final insert."""

    request: AppendRequest
    rows: list[dict[str, Any]]
    duplicate: AppendResult | None = None


class EventStore:
    def __init__(
        self, engine: Engine, *, snapshot_every: int = 100, metrics: Metrics | None = None
    ) -> None:
        self._engine = engine
        self._snapshot_every = snapshot_every
        self._metrics = metrics or NullMetrics()

    def append(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        """Append to one or more streams atomically; see the module docstring."""
        try:
            with timed(self._metrics, "append.latency"):
                results = self._append_with_retries(requests)
        except LedgerError as refusal:
            self._metrics.incr(f"append.{type(refusal).__name__}")
            log.info("ledger.append.refused", reason=refusal.detail, status=refusal.status)
            raise
        for result in results:
            if result.duplicate:
                self._metrics.incr("append.duplicates")
                continue
            self._metrics.incr("append.events", len(result.events))
            log.info(
                "ledger.events.appended",
                stream_id=result.stream_id,
                types=[e.type for e in result.events],
                version=result.version,
                position=result.events[-1].position,
            )
        return results

    def _append_with_retries(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        _refuse_repeated_ids(requests)
        for attempt in range(1, ANY_VERSION_RETRIES + 1):
            try:
                return self._append_once(requests)
            except IntegrityError as error:
                # A concurrent appender won a version (or stored one of our ids) first.
                stored = self._stored_results(requests)
                if stored is not None:
                    return stored
                self._raise_first_conflict(requests)
                racing = any(r.expected_version is None for r in requests)
                if not racing or attempt == ANY_VERSION_RETRIES:
                    raise EventRefused(
                        f"the append violates a ledger constraint: {error.orig}"
                    ) from error
        raise AssertionError("unreachable")

    def _append_once(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        now = datetime.now(UTC)
        with write_transaction(self._engine) as connection:
            if is_postgres(connection):
                for stream_id in sorted({r.stream_id for r in requests}):
                    connection.execute(select(func.pg_advisory_xact_lock(func.hashtext(stream_id))))
            store = SqlStore(connection)
            versions: dict[str, int] = {}
            pending: list[_Pending] = []
            outbox_rows: list[dict[str, Any]] = []
            snapshot_rows: list[dict[str, Any]] = []
            for request in requests:
                stored_version, any_stored = _stream_head(connection, request)
                if any_stored:
                    pending.append(_Pending(request, [], _stored_result(connection, request)))
                    continue
                current = versions.get(request.stream_id, stored_version)
                if request.expected_version is not None and request.expected_version != current:
                    raise VersionConflictError(request.stream_id, request.expected_version, current)
                rows = []
                for offset, new_event in enumerate(request.events, start=1):
                    payload = new_event.payload()
                    check_stream(request.stream_id, payload)
                    record = EventRecord(
                        new_event.id, request.stream_id, current + offset, payload, now
                    )
                    project(store, record)
                    snapshot = take_snapshot(store, record, self._snapshot_every)
                    if snapshot is not None:
                        snapshot_rows.append(snapshot)
                    rows.append(
                        {
                            "id": new_event.id,
                            "stream_id": request.stream_id,
                            "version": record.version,
                            "type": new_event.type,
                            "data": new_event.data,
                            "metadata": new_event.metadata.model_dump(mode="json"),
                            "recorded_at": now,
                        }
                    )
                    outbox_rows.extend(
                        {
                            "message_id": new_id("msg"),
                            "event_id": new_event.id,
                            "task": message.task,
                            "queue": message.queue,
                            "payload": message.payload.model_dump(mode="json"),
                            "created_at": now,
                            "publish_attempts": 0,
                        }
                        for message in messages_for(new_event.id, new_event.type, payload)
                    )
                versions[request.stream_id] = current + len(rows)
                pending.append(_Pending(request, rows))
            store.flush()
            if snapshot_rows:
                connection.execute(insert(snapshots), snapshot_rows)
            if outbox_rows:
                connection.execute(insert(outbox), outbox_rows)
                if is_postgres(connection):
                    # Delivered at commit: wakes waiting relays instead of their next poll.
                    connection.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
            new_rows = [row for item in pending for row in item.rows]
            positions = _insert_events(connection, new_rows) if new_rows else {}
        return [item.duplicate or _result(item, positions) for item in pending]

    def _stored_results(self, requests: Sequence[AppendRequest]) -> list[AppendResult] | None:
        with read_snapshot(self._engine) as connection:
            results = [_stored_result(connection, request) for request in requests]
        if all(result is not None for result in results):
            return [result for result in results if result is not None]
        return None

    def _raise_first_conflict(self, requests: Sequence[AppendRequest]) -> None:
        for request in requests:
            actual = self.stream_version(request.stream_id)
            if request.expected_version is not None and request.expected_version != actual:
                raise VersionConflictError(request.stream_id, request.expected_version, actual)

    def stream_version(self, stream_id: str) -> int:
        with self._engine.connect() as connection:
            return _stream_version(connection, stream_id)

    def read_stream(
        self, stream_id: str, *, after_version: int = 0, limit: int = 10_000
    ) -> StreamPage:
        with read_snapshot(self._engine) as connection:
            version = _stream_version(connection, stream_id)
            rows = connection.execute(
                select(events)
                .where(events.c.stream_id == stream_id, events.c.version > after_version)
                .order_by(events.c.version)
                .limit(limit)
            ).mappings()
            found = [_stored_event(row) for row in rows]
        if version == 0:
            raise NotFound(f"stream {stream_id!r} has no events")
        return StreamPage(stream_id=stream_id, version=version, events=found)

    def feed(self, *, after: int, limit: int) -> FeedPage:
        """Committed events after a position, in position order: safe to follow, never skips."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(events)
                .where(events.c.position > after)
                .order_by(events.c.position)
                .limit(limit)
            ).mappings()
            found = [_stored_event(row) for row in rows]
        return FeedPage(events=found, last_position=found[-1].position if found else after)

    def latest_snapshot(self, stream_id: str) -> SnapshotView:
        with self._engine.connect() as connection:
            row = (
                connection.execute(
                    select(snapshots)
                    .where(snapshots.c.stream_id == stream_id)
                    .order_by(snapshots.c.version.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"stream {stream_id!r} has no snapshot yet")
        return SnapshotView.model_validate(dict(row))


def _refuse_repeated_ids(requests: Sequence[AppendRequest]) -> None:
    counts = Counter(event.id for request in requests for event in request.events)
    repeated = sorted(event_id for event_id, seen in counts.items() if seen > 1)
    if repeated:
        raise EventRefused(f"event ids must be unique within an append; repeated: {repeated}")


def _stream_head(connection: Connection, request: AppendRequest) -> tuple[int, bool]:
    """The stream's version and whether any of the request's event ids is stored: one query."""
    version = (
        select(func.coalesce(func.max(events.c.version), 0))
        .where(events.c.stream_id == request.stream_id)
        .scalar_subquery()
    )
    ids = [event.id for event in request.events]
    any_stored = select(events.c.position).where(events.c.id.in_(ids)).exists()
    found = connection.execute(select(version, any_stored)).one()
    return int(found[0]), bool(found[1])


def _stream_version(connection: Connection, stream_id: str) -> int:
    found = connection.execute(
        select(func.max(events.c.version)).where(events.c.stream_id == stream_id)
    ).scalar()
    return int(found or 0)


def _insert_events(connection: Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
    if is_postgres(connection):
        connection.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))
    inserted = connection.execute(
        insert(events).returning(events.c.id, events.c.position, sort_by_parameter_order=True),
        rows,
    )
    return {row.id: row.position for row in inserted}


def _stored_result(connection: Connection, request: AppendRequest) -> AppendResult | None:
    """The stored result when every event of the request is already stored; None when none is."""
    ids = [event.id for event in request.events]
    rows = list(
        connection.execute(
            select(events).where(events.c.id.in_(ids)).order_by(events.c.position)
        ).mappings()
    )
    if not rows:
        return None
    same_stream = all(row["stream_id"] == request.stream_id for row in rows)
    if len(rows) != len(ids) or not same_stream:
        raise IdReused(
            f"{len(rows)} of the {len(ids)} event ids were already stored by a different append; "
            "re-send the original append unchanged, or use new ids"
        )
    stored = [_stored_event(row) for row in rows]
    return AppendResult(
        stream_id=request.stream_id, version=stored[-1].version, events=stored, duplicate=True
    )


def _result(item: _Pending, positions: dict[str, int]) -> AppendResult:
    stored = [_stored_event({**row, "position": positions[row["id"]]}) for row in item.rows]
    return AppendResult(stream_id=item.request.stream_id, version=stored[-1].version, events=stored)


def _stored_event(row: Any) -> StoredEvent:
    """An event as stored. It was validated when appended, so it is not parsed again here."""
    return StoredEvent.model_construct(
        id=row["id"],
        type=row["type"],
        data=row["data"],
        metadata=EventMetadata.model_construct(**row["metadata"]),
        stream_id=row["stream_id"],
        version=row["version"],
        position=row["position"],
        recorded_at=row["recorded_at"],
    )
