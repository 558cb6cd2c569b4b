"""Guarantee 5: a duplicate Celery delivery has no second effect.

After two runs complete, every message the ledger's outbox ever published is delivered again
(new message ids, as a broker redelivering or a relay re-publishing after a crash would): no
run, order or theater stream gains an event and the mainline does not move.
"""

from __future__ import annotations

import time

import redis
from fleet import Fleet
from sqlalchemy import select
from test_whole_path import command_orders, mainline

from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.git import git
from ironclaw.ledger.adapters.database import create_db_engine
from ironclaw.ledger.adapters.relay import CeleryPublisher
from ironclaw.ledger.adapters.tables import outbox

CONSUMED_QUEUES = ("co", "worker", "integration")  # the fleet runs no replies worker


def business_events(fleet: Fleet) -> list[tuple[str, int, str]]:
    """(stream, version, type) of every event not on a patrol stream, in feed order."""
    found, after = [], 0
    while True:
        page = fleet.ledger.feed(after=after, limit=1000)
        found += [(e.stream_id, e.version, e.type) for e in page.events]
        if not page.events:
            return [event for event in found if not event[0].startswith("patrol-")]
        after = page.last_position


def test_every_message_delivered_twice_changes_nothing(fleet: Fleet) -> None:
    run_ids = []
    for index in range(2):
        accepted = fleet.post(
            "/runs", {"message": f"round {index}", "orders": command_orders(index == 0)}
        )
        assert accepted.status_code == 202, accepted.text
        run_ids.append(accepted.json()["run_id"])
    runs = [fleet.wait_for_run(run_id) for run_id in run_ids]
    assert [run.status for run in runs] == ["completed", "completed"]
    head = git(mainline(fleet), "rev-parse", "main")
    before = business_events(fleet)

    engine = create_db_engine(fleet.env["IRONCLAW_DATABASE_URL"], pool_size=1)
    with engine.connect() as connection:
        sent = list(connection.execute(select(outbox.c.task, outbox.c.queue, outbox.c.payload)))
    engine.dispose()
    assert {task for task, *_ in sent} >= {
        "co.plan_run",
        "worker.execute_order",
        "integration.integrate_order",
        "co.order_settled",
    }
    publisher = CeleryPublisher(fleet.env["IRONCLAW_BROKER_URL"])
    try:
        for task, queue, payload in sent:
            publisher.publish(task=task, queue=queue, payload=payload, message_id=new_id("msg"))
    finally:
        publisher.close()
    broker = redis.Redis.from_url(fleet.env["IRONCLAW_BROKER_URL"])
    fleet.wait_until(
        lambda: all(broker.llen(queue) == 0 for queue in CONSUMED_QUEUES),
        120,
        "every duplicate to be consumed",
    )
    broker.close()
    time.sleep(3)  # the last messages taken off the queues are handled by now

    assert business_events(fleet) == before
    assert git(mainline(fleet), "rev-parse", "main") == head
