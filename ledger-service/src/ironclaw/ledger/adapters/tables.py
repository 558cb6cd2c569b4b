"""The ledger's tables: events, outbox, snapshots and the projections (a rebuildable cache)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

JsonDocument = JSON().with_variant(JSONB(), "postgresql")
# SQLite only autoincrements an INTEGER PRIMARY KEY, not a BIGINT one.
Position = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are refused: use UTC-aware values")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("stream_id", String(160), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(80), nullable=False),
    Column("data", JsonDocument, nullable=False),
    Column("metadata", JsonDocument, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("message_id", String(40), nullable=False, unique=True),
    Column("event_id", String(40), nullable=False),
    Column("task", String(80), nullable=False),
    Column("queue", String(40), nullable=False),
    Column("payload", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("publish_attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
)
Index("ix_outbox_unsent", outbox.c.id, postgresql_where=outbox.c.sent_at.is_(None))

snapshots = Table(
    "snapshots",
    metadata,
    Column("stream_id", String(160), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("state", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(40), primary_key=True),
    Column("status", String(24), nullable=False),
    Column("theater", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("source", JsonDocument, nullable=False),
    Column("conversation_id", String(200), nullable=True),
    Column("planner", String(200), nullable=True),
    Column("response", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("cancel_requested", Boolean, nullable=False),
    Column("reply_status", String(16), nullable=True),
    Column("reply_failures", Integer, nullable=False, server_default="0"),
    Column("tokens_input", BigInteger, nullable=False),
    Column("tokens_output", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_runs_status", runs.c.status, runs.c.updated_at)
Index("ix_runs_status_id", runs.c.status, runs.c.run_id)  # `GET /runs?status=&after=`
# The duty officer retries failed replies: few rows, found without reading settled history.
Index("ix_runs_reply_status", runs.c.reply_status, runs.c.run_id)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("run_id", String(40), nullable=False),
    Column("theater", String(64), nullable=False),
    Column("key", String(64), nullable=False),
    Column("status", String(24), nullable=False),
    Column("spec", JsonDocument, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("recovery_reason", Text, nullable=True),
    Column("integration", JsonDocument, nullable=True),
    Column("issued_at", UtcDateTime, nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("last_signal_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_orders_run", orders.c.run_id, orders.c.key)
# Patrols look only at active Orders; settled history never enters these scans.
Index("ix_orders_status_updated", orders.c.status, orders.c.updated_at)
Index("ix_orders_status_lease", orders.c.status, orders.c.lease_expires_at)
# Paging through one status (or one theater's) by id: `GET /orders?after=`.
Index("ix_orders_status_id", orders.c.status, orders.c.order_id)
Index("ix_orders_theater_status", orders.c.theater, orders.c.status)

attempts = Table(
    "attempts",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("status", String(24), nullable=False),
    Column("worker_id", String(200), nullable=True),
    Column("branch", String(300), nullable=True),
    Column("worktree", Text, nullable=True),
    Column("base_commit", String(64), nullable=True),
    Column("commits", JsonDocument, nullable=False),
    Column("aar", JsonDocument, nullable=True),
    Column("reason", Text, nullable=True),
    Column("progress", Float, nullable=True),
    Column("tokens_input", BigInteger, nullable=False),
    Column("tokens_output", BigInteger, nullable=False),
    Column("rescue_ref", String(300), nullable=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("last_signal_at", UtcDateTime, nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
)

theaters = Table(
    "theaters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("source", Text, nullable=False),
    Column("mainline", String(200), nullable=False),
    Column("path", Text, nullable=False),
    Column("head", String(64), nullable=True),
    Column("dispatch_paused", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

profiles = Table(
    "profiles",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("consecutive_failures", Integer, nullable=False),
    Column("last_failure", Text, nullable=True),
    Column("disabled", Boolean, nullable=False),
    Column("disabled_reason", Text, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)
# The duty officer asks for profiles failing in a row and not yet disabled.
Index("ix_profiles_health", profiles.c.disabled, profiles.c.consecutive_failures)

# One row per (UTC day, theater): budget checks read today's rows, never the history.
usage = Table(
    "usage",
    metadata,
    Column("day", Date, primary_key=True),
    Column("theater", String(64), primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("tokens_input", BigInteger, nullable=False),
    Column("tokens_output", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

PROJECTION_TABLES = (runs, orders, attempts, theaters, profiles, usage)
