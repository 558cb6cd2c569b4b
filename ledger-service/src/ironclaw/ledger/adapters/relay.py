"""The outbox relay: publishes committed task messages to Celery by name, then marks them sent.

Publishing happens before the rows are marked sent, so a relay killed in between re-publishes
them when it restarts: delivery is at-least-once, and every task is idempotent. On Postgres,
`SKIP LOCKED` lets several relays share the outbox without sending a row twice at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg
import structlog
from celery import Celery
from fastapi import FastAPI
from sqlalchemy import Engine, func, select, update

from ironclaw.contracts.kit.celery import publisher_config
from ironclaw.contracts.kit.health import health_app
from ironclaw.ledger.adapters.database import is_postgres, write_transaction
from ironclaw.ledger.adapters.event_store import OUTBOX_CHANNEL
from ironclaw.ledger.adapters.tables import outbox

log = structlog.get_logger()


class RelayError(Exception):
    """Publishing stopped part-way; what was sent is marked, the rest waits for the next try."""


class Publisher(Protocol):
    def publish(
        self, *, task: str, queue: str, payload: dict[str, Any], message_id: str
    ) -> None: ...


class CeleryPublisher:
    """Sends tasks by name through a Celery app that knows no task code (no service imports)."""

    def __init__(self, broker_url: str) -> None:
        self._app = Celery("ironclaw-relay", broker=broker_url, set_as_current=False)
        self._app.conf.update(publisher_config(broker_url))

    def publish(self, *, task: str, queue: str, payload: dict[str, Any], message_id: str) -> None:
        self._app.send_task(task, kwargs={"payload": payload}, queue=queue, task_id=message_id)

    def close(self) -> None:
        self._app.close()


def relay_batch(engine: Engine, publisher: Publisher, *, batch_size: int) -> int:
    """Publish up to `batch_size` unsent messages in outbox order; returns how many were sent."""
    with write_transaction(engine) as connection:
        query = (
            select(outbox).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id).limit(batch_size)
        )
        if is_postgres(connection):
            query = query.with_for_update(skip_locked=True)
        rows = list(connection.execute(query).mappings())
        sent: list[int] = []
        failure: Exception | None = None
        for row in rows:
            try:
                publisher.publish(
                    task=row["task"],
                    queue=row["queue"],
                    payload=row["payload"],
                    message_id=row["message_id"],
                )
            except Exception as error:  # recorded on the row; the caller backs off and retries
                failure = error
                connection.execute(
                    update(outbox)
                    .where(outbox.c.id == row["id"])
                    .values(
                        publish_attempts=outbox.c.publish_attempts + 1,
                        last_error=str(error)[:2000],
                    )
                )
                log.warning(
                    "ledger.relay.publish_failed", message_id=row["message_id"], error=str(error)
                )
                break
            sent.append(row["id"])
        if sent:
            connection.execute(
                update(outbox).where(outbox.c.id.in_(sent)).values(sent_at=datetime.now(UTC))
            )
    if failure is not None:
        raise RelayError(f"published {len(sent)} of {len(rows)} messages") from failure
    return len(sent)


def unsent_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            ).scalar_one()
        )


class OutboxWakeup:
    """Waits for new outbox rows: woken by the appends' NOTIFY on Postgres, by polling elsewhere."""

    def __init__(self, engine: Engine) -> None:
        self._listener: psycopg.Connection[Any] | None = None
        if is_postgres(engine):
            conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._listener = psycopg.connect(conninfo, autocommit=True)
            self._listener.execute(f"LISTEN {OUTBOX_CHANNEL}")

    def wait(self, timeout_s: float) -> None:
        if self._listener is None:
            time.sleep(timeout_s)
            return
        for _ in self._listener.notifies(timeout=timeout_s, stop_after=1):
            pass

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()


def run_relay(
    engine: Engine,
    publisher: Publisher,
    *,
    batch_size: int,
    idle_s: float,
    max_backoff_s: float,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Relay until told to stop: drain while there is work, wait when idle, back off on errors."""
    wakeup = OutboxWakeup(engine)
    try:
        _relay_until_stopped(
            engine, publisher, wakeup, batch_size, idle_s, max_backoff_s, should_stop
        )
    finally:
        wakeup.close()


def _relay_until_stopped(
    engine: Engine,
    publisher: Publisher,
    wakeup: OutboxWakeup,
    batch_size: int,
    idle_s: float,
    max_backoff_s: float,
    should_stop: Callable[[], bool],
) -> None:
    backoff = idle_s
    log.info("ledger.relay.started", batch_size=batch_size, unsent=unsent_count(engine))
    while not should_stop():
        try:
            sent = relay_batch(engine, publisher, batch_size=batch_size)
        except Exception:
            log.exception("ledger.relay.batch_failed", retry_in_s=backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, max_backoff_s)
            continue
        backoff = idle_s
        if sent:
            log.info("ledger.relay.published", count=sent)
        else:
            wakeup.wait(idle_s)
    log.info("ledger.relay.stopped")


def relay_health_app(engine: Engine) -> FastAPI:
    """The relay's `/health`, and `/ready` that reads the outbox (so the database answers)."""

    def outbox_readable() -> None:
        unsent_count(engine)

    return health_app("IronClaw ledger relay", "ledger-relay", {"outbox": outbox_readable})
