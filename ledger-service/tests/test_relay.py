"""The transactional outbox and its relay: written with the events, published, marked, never lost.

The Redis tests each claim a Redis database of their own (SET NX on a claim key in an empty
database), so they cannot collide with other tests or with a concurrent run of this suite, and
they delete only the keys that appeared in that database while they held it.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from openai_server import free_port
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AppendRequest
from ironclaw.contracts.events import NewEvent
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.tasks import PLAN_RUN
from ironclaw.ledger.adapters.database import create_db_engine
from ironclaw.ledger.adapters.event_store import EventStore, VersionConflictError
from ironclaw.ledger.adapters.relay import (
    CeleryPublisher,
    RelayError,
    relay_batch,
    run_relay,
    unsent_count,
)
from ironclaw.ledger.adapters.tables import events, outbox
from ironclaw.ledger.domain.records import EventRefused

# --- helpers ----------------------------------------------------------------------------------


def run_received(run_id: str | None = None) -> AppendRequest:
    run_id = run_id or new_id("run")
    payload = ev.RunReceived(run_id=run_id, theater="default", message=f"please do {run_id}")
    return AppendRequest(stream_id=run_id, expected_version=0, events=[NewEvent.of(payload)])


def outbox_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [
            dict(r) for r in connection.execute(select(outbox).order_by(outbox.c.id)).mappings()
        ]


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def sent_count(engine: Engine) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_not(None))
        return int(connection.execute(query).scalar_one())


def wait_for(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Poll `condition` until it holds; fail after `timeout_s` seconds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting until {what}")
        time.sleep(0.005)


def queued(client: redis.Redis, queue: str) -> list[dict[str, Any]]:
    """Every Celery message on a kombu Redis queue, oldest first (kombu LPUSHes, workers BRPOP)."""
    found = []
    for raw in reversed(client.lrange(queue, 0, -1)):
        envelope = json.loads(raw)
        assert envelope["properties"]["body_encoding"] == "base64"
        assert envelope["content-type"] == "application/json"
        args, kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        found.append(
            {
                "task": envelope["headers"]["task"],
                "id": envelope["headers"]["id"],
                "args": args,
                "kwargs": kwargs,
                "routing_key": envelope["properties"]["delivery_info"]["routing_key"],
            }
        )
    return found


@pytest.fixture
def broker_url(redis_db_url: str) -> str:
    """A Redis database this test alone uses (claimed; see tests/support/redis_claims.py)."""
    return redis_db_url


class RecordingPublisher:
    """Implements the relay's Publisher protocol in memory; optionally fails on the nth call."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.published: list[dict[str, Any]] = []
        self.calls = 0
        self._fail_on_call = fail_on_call

    def publish(self, *, task: str, queue: str, payload: dict[str, Any], message_id: str) -> None:
        self.calls += 1
        if self.calls == self._fail_on_call:
            raise ConnectionError("broker went away")
        self.published.append(
            {"task": task, "queue": queue, "payload": payload, "message_id": message_id}
        )


# --- the outbox is written by the append transaction ------------------------------------------


def test_append_writes_one_plan_run_message_with_the_event(engine: Engine) -> None:
    request = run_received()
    (result,) = EventStore(engine).append([request])

    (row,) = outbox_rows(engine)
    event = result.events[0]
    assert row["event_id"] == event.id
    assert row["task"] == PLAN_RUN
    assert row["queue"] == "co"
    assert row["payload"] == {"event_id": event.id, "run_id": request.stream_id}
    assert row["message_id"].startswith("msg_")
    assert row["sent_at"] is None
    assert row["publish_attempts"] == 0
    assert row["last_error"] is None


def test_an_event_that_triggers_nothing_writes_no_outbox_row(engine: Engine) -> None:
    store = EventStore(engine)
    request = run_received()
    store.append([request])
    planning = ev.RunPlanningStarted(run_id=request.stream_id, planner="test")
    store.append(
        [
            AppendRequest(
                stream_id=request.stream_id, expected_version=1, events=[NewEvent.of(planning)]
            )
        ]
    )
    assert count(engine, events) == 2
    assert count(engine, outbox) == 1


def test_an_append_refused_for_its_version_writes_no_outbox_row(engine: Engine) -> None:
    store = EventStore(engine)
    first = run_received()
    store.append([first])
    stale = AppendRequest(
        stream_id=first.stream_id,
        expected_version=0,
        events=[NewEvent.of(ev.RunReceived(run_id=first.stream_id, theater="t", message="again"))],
    )
    with pytest.raises(VersionConflictError):
        store.append([stale])
    assert count(engine, outbox) == 1
    assert count(engine, events) == 1


def test_outbox_rows_roll_back_with_the_events_they_belong_to(engine: Engine) -> None:
    """The events are inserted after the outbox rows; when that insert fails, both vanish.

    A trigger makes the database itself refuse the second stream's event at insert time, after
    every check of the event store has passed and the outbox rows have been written.
    """
    boom = new_id("run")
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.stream_id = '{boom}' THEN RAISE EXCEPTION 'boom'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_boom BEFORE INSERT ON events "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_boom()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_boom BEFORE INSERT ON events "
                    f"WHEN NEW.stream_id = '{boom}' BEGIN SELECT RAISE(ABORT, 'boom'); END"
                )
            )
    # Postgres raises the trigger's error; on SQLite RAISE(ABORT) is a constraint error, which the
    # store, finding no conflict and no stored ids to explain it, refuses.
    with pytest.raises((DBAPIError, EventRefused)):
        EventStore(engine).append([run_received(), run_received(boom)])
    assert count(engine, events) == 0
    assert count(engine, outbox) == 0


# --- relay_batch against an in-memory publisher -----------------------------------------------


def test_relay_batch_publishes_in_outbox_order_and_marks_sent(engine: Engine) -> None:
    store = EventStore(engine)
    for _ in range(5):
        store.append([run_received()])
    rows = outbox_rows(engine)
    publisher = RecordingPublisher()

    assert relay_batch(engine, publisher, batch_size=3) == 3
    assert [m["message_id"] for m in publisher.published] == [r["message_id"] for r in rows[:3]]
    assert publisher.published[0] == {
        "task": rows[0]["task"],
        "queue": rows[0]["queue"],
        "payload": rows[0]["payload"],
        "message_id": rows[0]["message_id"],
    }
    after = outbox_rows(engine)
    assert [r["sent_at"] is not None for r in after] == [True, True, True, False, False]
    assert unsent_count(engine) == 2

    assert relay_batch(engine, publisher, batch_size=3) == 2
    assert relay_batch(engine, publisher, batch_size=3) == 0
    assert [m["message_id"] for m in publisher.published] == [r["message_id"] for r in rows]
    assert unsent_count(engine) == 0


def test_a_failing_publish_marks_what_was_sent_and_records_the_error(engine: Engine) -> None:
    store = EventStore(engine)
    for _ in range(5):
        store.append([run_received()])
    rows = outbox_rows(engine)

    failing = RecordingPublisher(fail_on_call=3)
    with pytest.raises(RelayError, match="published 2 of 5"):
        relay_batch(engine, failing, batch_size=10)
    assert [m["message_id"] for m in failing.published] == [r["message_id"] for r in rows[:2]]

    after = outbox_rows(engine)
    assert [r["sent_at"] is not None for r in after] == [True, True, False, False, False]
    assert [r["publish_attempts"] for r in after] == [0, 0, 1, 0, 0]
    assert after[2]["last_error"] == "broker went away"
    assert [r["last_error"] for r in after[3:]] == [None, None]
    assert unsent_count(engine) == 3

    # The next pass resumes at the failed message, in order, and sends nothing twice.
    healthy = RecordingPublisher()
    assert relay_batch(engine, healthy, batch_size=10) == 3
    assert [m["message_id"] for m in healthy.published] == [r["message_id"] for r in rows[2:]]
    assert unsent_count(engine) == 0
    assert outbox_rows(engine)[2]["publish_attempts"] == 1


# --- the real broker --------------------------------------------------------------------------


def test_celery_publisher_puts_the_task_on_its_redis_queue(engine: Engine, broker_url: str) -> None:
    store = EventStore(engine)
    run_ids = []
    for _ in range(3):
        request = run_received()
        store.append([request])
        run_ids.append(request.stream_id)
    rows = outbox_rows(engine)

    publisher = CeleryPublisher(broker_url)
    try:
        assert relay_batch(engine, publisher, batch_size=10) == 3
    finally:
        publisher.close()

    client = redis.Redis.from_url(broker_url)
    messages = queued(client, "co")
    client.close()
    assert [m["id"] for m in messages] == [r["message_id"] for r in rows]
    for message, row, run_id in zip(messages, rows, run_ids, strict=True):
        assert message["task"] == "co.plan_run"
        assert message["routing_key"] == "co"
        assert message["args"] == []
        assert message["kwargs"] == {"payload": {"event_id": row["event_id"], "run_id": run_id}}
    assert unsent_count(engine) == 0


# --- the key test: a relay killed mid-publish loses nothing ------------------------------------


def relay_command(batch_size: int) -> list[str]:
    script = Path(sys.executable).with_name("ironclaw-ledger")
    if script.exists():
        return [str(script), "relay", "--batch-size", str(batch_size)]
    code = "from ironclaw.ledger.cli import main; main()"
    return [sys.executable, "-c", code, "relay", "--batch-size", str(batch_size)]


def start_relay(
    database_url: str, broker_url: str, log: Path, batch_size: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "IRONCLAW_DATABASE_URL": database_url,
        "IRONCLAW_BROKER_URL": broker_url,
        "IRONCLAW_RELAY_IDLE_S": "0.05",
    }
    # A file, not a pipe: the relay logs every batch and must never block on a full pipe.
    with log.open("ab") as sink:
        return subprocess.Popen(
            relay_command(batch_size), env=env, stdout=sink, stderr=subprocess.STDOUT
        )


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_the_outbox_survives_a_relay_killed_mid_publish(
    backend: str,
    request: pytest.FixtureRequest,
    broker_url: str,
    tmp_path: Path,
) -> None:
    database_url: str = request.getfixturevalue(f"{backend}_url")
    total, late, batch_size = 3000, 200, 10
    engine = create_db_engine(database_url)
    store = EventStore(engine)
    log = tmp_path / "relay.log"
    processes: list[subprocess.Popen[bytes]] = []
    client = redis.Redis.from_url(broker_url)

    def alive(process: subprocess.Popen[bytes]) -> bool:
        if process.poll() is not None:
            pytest.fail(f"the relay exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        return True

    try:
        for start in range(0, total, 500):
            store.append([run_received() for _ in range(start, min(start + 500, total))])
        assert unsent_count(engine) == total

        first = start_relay(database_url, broker_url, log, batch_size)
        processes.append(first)
        wait_for(
            lambda: alive(first) and sent_count(engine) >= total // 3,
            timeout_s=30,
            what="the first relay marked a third of the messages sent",
        )
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL

        sent_before_kill = sent_count(engine)
        published_before_kill = client.llen("co")
        assert 0 < sent_before_kill < total, "the kill must land mid-way through the outbox"
        assert unsent_count(engine) == total - sent_before_kill
        # Publish precedes marking: every row marked sent is on the queue already.
        assert published_before_kill >= sent_before_kill

        # Events committed while no relay runs (a crash right after commit) are not lost either.
        for _ in range(late // 100):
            store.append([run_received() for _ in range(100)])
        assert unsent_count(engine) == total + late - sent_before_kill

        second = start_relay(database_url, broker_url, log, batch_size)
        processes.append(second)
        wait_for(
            lambda: alive(second) and unsent_count(engine) == 0,
            timeout_s=60,
            what="the second relay drained the outbox",
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0, log.read_text()[-3000:]
        assert "ledger.relay.stopped" in log.read_text()

        rows = outbox_rows(engine)
        assert len(rows) == total + late
        expected = {r["message_id"]: r for r in rows}
        messages = queued(client, "co")
        ids = Counter(m["id"] for m in messages)
        assert set(ids) == set(expected), "every outbox message reached the queue, no other did"
        for message in messages:
            row = expected[message["id"]]
            assert message["task"] == row["task"] == PLAN_RUN
            assert message["kwargs"] == {"payload": row["payload"]}
        duplicates = len(messages) - len(ids)
        # Only the batch in flight when the relay died can be published twice.
        assert duplicates <= batch_size
        assert all(n <= 2 for n in ids.values())
        print(
            f"\n[{backend}] kill test: {total}+{late} messages; marked sent before SIGKILL: "
            f"{sent_before_kill}; on the queue at kill: {published_before_kill}; "
            f"on the queue at the end: {len(messages)}; duplicates: {duplicates}"
        )
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        client.close()
        engine.dispose()


def test_the_relay_answers_health_on_its_own_port(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "IRONCLAW_DATABASE_URL": sqlite_url,
        "IRONCLAW_BROKER_URL": f"filesystem://{tmp_path / 'broker'}",
        "IRONCLAW_RELAY_HEALTH_PORT": str(port),
    }
    relay = subprocess.Popen(
        [sys.executable, "-c", "from ironclaw.ledger.cli import main; main()", "relay"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the relay never answered /ready"
                time.sleep(0.1)
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"outbox": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["service"] == "ledger-relay"
    finally:
        relay.terminate()
        assert relay.wait(timeout=20) == 0


def test_an_idle_relay_on_postgres_is_woken_by_the_append_not_its_poll(postgres_url: str) -> None:
    engine = create_db_engine(postgres_url)
    publisher = RecordingPublisher()
    stopping = threading.Event()
    relay = threading.Thread(
        target=run_relay,
        args=(engine, publisher),
        kwargs={
            "batch_size": 10,
            "idle_s": 30.0,  # a poll would take this long; the NOTIFY must not
            "max_backoff_s": 30.0,
            "should_stop": stopping.is_set,
        },
    )
    relay.start()
    try:
        time.sleep(0.5)  # let the relay go idle (the first empty pass), then append
        started = time.monotonic()
        EventStore(engine).append([run_received()])
        while not publisher.published:
            assert time.monotonic() - started < 10, "the relay was not woken by the append"
            time.sleep(0.01)
    finally:
        stopping.set()
        EventStore(engine).append([run_received()])  # wakes it so it sees the stop
        relay.join(timeout=30)
        engine.dispose()
    assert not relay.is_alive()
