"""Lost messages re-driven from the ledger: idle Runs get co's message again, and a promotion
whose integrator died gets `IntegrationReady` again."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import redis

from ironclaw.contracts import events as ev
from ironclaw.contracts import tasks
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.ids import new_id
from ironclaw.duty.adapters.broker import CeleryEnqueuer
from ironclaw.duty.domain.stragglers import StragglerWatch

if TYPE_CHECKING:  # the fixtures' classes, from this folder's conftest
    from conftest import Orders, SetClock

RESEND_AFTER_S = 60.0


@pytest.fixture
def broker(redis_db_url: str) -> Iterator[CeleryEnqueuer]:
    enqueuer = CeleryEnqueuer(redis_db_url)
    yield enqueuer
    enqueuer.close()


@pytest.fixture
def watch(ledger_client: LedgerClient, broker: CeleryEnqueuer) -> StragglerWatch:
    return StragglerWatch(ledger_client, broker, resend_after_s=RESEND_AFTER_S)


def queued(redis_url: str, queue: str) -> list[tuple[str, dict[str, Any]]]:
    """(task name, payload) of each message waiting on `queue`, oldest first."""
    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.lrange(queue, 0, -1)
    finally:
        client.close()
    found = []
    for item in reversed(raw):  # kombu pushes on the left and pops on the right
        message = json.loads(item)
        _, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], kwargs["payload"]))
    return found


def test_a_run_left_unplanned_gets_plan_run_again_once_per_wait(
    ledger_client: LedgerClient, watch: StragglerWatch, clock: SetClock, redis_db_url: str
) -> None:
    run_id = new_id("run")
    received = ledger_client.append(
        run_id, [ev.RunReceived(run_id=run_id, theater="default", message="go")], expected_version=0
    ).events[0]
    run = ledger_client.get_run(run_id)
    co_queue = tasks.queue_for(tasks.PLAN_RUN)

    clock.at(run.updated_at, plus_s=RESEND_AFTER_S - 5)
    assert watch.cycle(clock()).did == []
    clock.at(run.updated_at, plus_s=RESEND_AFTER_S + 1)
    first = watch.cycle(clock())
    assert first.did == [f"plan_run {run_id}"]
    assert first.saw["runs_unplanned"] == 1
    assert queued(redis_db_url, co_queue) == [
        (tasks.PLAN_RUN, {"event_id": received.id, "run_id": run_id})
    ]
    clock.at(run.updated_at, plus_s=RESEND_AFTER_S + 30)
    assert watch.cycle(clock()).did == []  # not again within the wait
    clock.at(run.updated_at, plus_s=2 * RESEND_AFTER_S + 2)
    assert watch.cycle(clock()).did == [f"plan_run {run_id}"]
    assert len(queued(redis_db_url, co_queue)) == 2


def test_a_run_whose_orders_all_settled_gets_order_settled_again(
    orders: Orders, watch: StragglerWatch, clock: SetClock, redis_db_url: str
) -> None:
    busy = orders.claim(orders.issued())
    order = orders.claim(orders.issued())
    failed = ev.OrderFailed(
        order_id=order.order_id, run_id=order.run_id, attempt=1, reason="engine gave up"
    )
    orders.ledger.append(order.order_id, [failed], expected_version=order.version)
    settled_event = orders.events(order.order_id)[-1]
    run = orders.ledger.get_run(order.run_id)

    clock.at(run.updated_at, plus_s=RESEND_AFTER_S + 1)
    found = watch.cycle(clock())

    assert found.did == [f"order_settled {order.run_id}"]  # not the run whose order is busy
    assert busy.run_id not in " ".join(found.did)
    assert queued(redis_db_url, tasks.queue_for(tasks.ORDER_SETTLED)) == [
        (
            tasks.ORDER_SETTLED,
            {
                "event_id": settled_event.id,
                "order_id": order.order_id,
                "run_id": order.run_id,
                "status": "failed",
            },
        )
    ]


def test_a_promotion_left_integrating_gets_integration_ready_once_per_state(
    orders: Orders, watch: StragglerWatch, clock: SetClock
) -> None:
    order = orders.complete(orders.claim(orders.issued()))
    started = ev.IntegrationStarted(order_id=order.order_id, run_id=order.run_id, attempt=1)
    orders.ledger.append(order.order_id, [started], expected_version=order.version)
    integrating = orders.view(order.order_id)

    clock.at(integrating.updated_at, plus_s=RESEND_AFTER_S - 1)
    assert watch.cycle(clock()).did == []
    clock.at(integrating.updated_at, plus_s=RESEND_AFTER_S + 1)
    assert watch.cycle(clock()).did == [f"integration_ready {order.order_id}#1"]
    assert len(orders.of_type(order.order_id, "IntegrationReady")) == 1
    assert watch.cycle(clock()).did == []  # the same stuck state is asked about once


def test_a_failed_reply_is_sent_again_with_a_doubling_wait_until_the_retries_run_out(
    ledger_client: LedgerClient, broker: CeleryEnqueuer, clock: SetClock, redis_db_url: str
) -> None:
    watch = StragglerWatch(ledger_client, broker, resend_after_s=RESEND_AFTER_S, reply_retries=2)
    run_id = new_id("run")
    ledger_client.append(
        run_id, [ev.RunReceived(run_id=run_id, theater="default", message="go")], expected_version=0
    )
    ledger_client.append(run_id, [ev.RunFailed(run_id=run_id, reason="no")], expected_version=1)
    reply_queue = tasks.queue_for(tasks.DELIVER_REPLY)

    def fail_reply() -> str:
        failed = ev.ReplyFailed(run_id=run_id, channel="github", reason="502", attempts=3)
        return ledger_client.append(run_id, [failed], expected_version=None).events[0].id

    first_failure = fail_reply()
    failed_at = ledger_client.get_run(run_id).updated_at
    clock.at(failed_at, plus_s=RESEND_AFTER_S - 1)
    assert watch.cycle(clock()).did == []
    clock.at(failed_at, plus_s=RESEND_AFTER_S + 1)
    assert watch.cycle(clock()).did == [f"deliver_reply {run_id}"]
    assert queued(redis_db_url, reply_queue) == [
        (tasks.DELIVER_REPLY, {"event_id": first_failure, "run_id": run_id})
    ]

    second_failure = fail_reply()  # the resend failed too: the next wait is twice as long
    failed_at = ledger_client.get_run(run_id).updated_at
    clock.at(failed_at, plus_s=2 * RESEND_AFTER_S - 1)
    assert watch.cycle(clock()).did == []
    clock.at(failed_at, plus_s=2 * RESEND_AFTER_S + 1)
    assert watch.cycle(clock()).did == [f"deliver_reply {run_id}"]
    assert queued(redis_db_url, reply_queue)[-1][1]["event_id"] == second_failure

    fail_reply()  # a third failure: past the two retries, it is left recorded, not re-sent
    clock.at(ledger_client.get_run(run_id).updated_at, plus_s=100 * RESEND_AFTER_S)
    given_up = watch.cycle(clock())
    assert given_up.did == []
    assert given_up.saw["replies_given_up"] == 1
