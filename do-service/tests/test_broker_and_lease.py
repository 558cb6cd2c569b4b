"""The duty officer on a real Redis: re-enqueued messages on the `worker` list, and the lease."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis

from ironclaw.contracts import tasks
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.lease import DUTY_LEASE, FileLease, RedisLease, RedisLeases
from ironclaw.duty.adapters.broker import CeleryEnqueuer
from ironclaw.duty.app import create_officer
from ironclaw.duty.config import Settings
from ironclaw.duty.domain.officer import DutyOfficer
from ironclaw.duty.domain.patrol import DutyPatrol, PatrolPolicy

if TYPE_CHECKING:  # the fixtures' classes, from this folder's conftest
    from conftest import Orders, SetClock

MakePatrol = Callable[..., DutyPatrol]


@pytest.fixture
def redis_broker(redis_db_url: str) -> Iterator[CeleryEnqueuer]:
    enqueuer = CeleryEnqueuer(redis_db_url)
    yield enqueuer
    enqueuer.close()


def worker_messages(redis_url: str) -> list[tuple[str, dict[str, Any]]]:
    """(task name, kwargs) of each message waiting on the `worker` queue, oldest first."""
    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.lrange("worker", 0, -1)
    finally:
        client.close()
    messages = []
    for item in reversed(raw):  # kombu pushes on the left and pops on the right
        message = json.loads(item)
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        assert args == []
        messages.append((message["headers"]["task"], kwargs))
    return messages


def test_unclaimed_issued_order_is_reenqueued_once_per_claim_timeout(
    orders: Orders,
    clock: SetClock,
    patrol_factory: MakePatrol,
    redis_broker: CeleryEnqueuer,
    redis_db_url: str,
) -> None:
    order = orders.issued(claim_timeout_s=5)
    (issued,) = orders.of_type(order.order_id, "OrderIssued")
    issued_at = order.attempts[-1].issued_at
    patrol = patrol_factory(enqueuer=redis_broker)

    clock.at(issued_at, plus_s=4)
    assert patrol.cycle().did == []
    assert worker_messages(redis_db_url) == []

    clock.at(issued_at, plus_s=6)
    heartbeat = patrol.cycle()
    expected = {
        "payload": {
            "event_id": issued.id,
            "order_id": order.order_id,
            "run_id": order.run_id,
            "attempt": 1,
        }
    }
    assert worker_messages(redis_db_url) == [(tasks.EXECUTE_ORDER, expected)]
    assert heartbeat.did == [f"reenqueued {order.order_id}#1"]
    assert heartbeat.saw["unclaimed_overdue"] == 1

    for seconds in (7, 9, 10.9):  # within one claim timeout of the re-enqueue: nothing more
        clock.at(issued_at, plus_s=seconds)
        assert patrol.cycle().did == []
    assert len(worker_messages(redis_db_url)) == 1

    clock.at(issued_at, plus_s=11.5)
    assert patrol.cycle().did == [f"reenqueued {order.order_id}#1"]
    assert worker_messages(redis_db_url) == [(tasks.EXECUTE_ORDER, expected)] * 2

    orders.claim(order)  # claimed: the patrol leaves it to the lease from now on
    clock.at(issued_at, plus_s=30)
    patrol.cycle()
    assert len(worker_messages(redis_db_url)) == 2


def officer(ledger: LedgerClient, broker: CeleryEnqueuer, lease: Any, holder: str) -> DutyOfficer:
    patrol = DutyPatrol(ledger, broker, PatrolPolicy(), holder=holder)
    return DutyOfficer(patrol, lease, holder=holder)


def redis_lease(redis_url: str, holder: str, *, ttl_s: float) -> RedisLease:
    return RedisLeases(redis_url, holder=holder, ttl_s=ttl_s).lease(DUTY_LEASE)


def test_only_the_duty_officer_holding_the_redis_lease_patrols(
    ledger_client: LedgerClient, redis_broker: CeleryEnqueuer, redis_db_url: str, orders: Orders
) -> None:
    first = officer(ledger_client, redis_broker, redis_lease(redis_db_url, "a:1", ttl_s=30), "a:1")
    second = officer(ledger_client, redis_broker, redis_lease(redis_db_url, "b:2", ttl_s=30), "b:2")

    assert first.watch(1) is not None
    assert second.watch(1) is None
    assert first.watch(2) is not None  # the holder renews its lease each round
    assert second.watch(2) is None
    assert [h.holder for h in orders.heartbeats()] == ["a:1", "a:1"]

    first.stand_down()
    assert second.watch(3) is not None
    assert first.watch(3) is None
    assert [h.holder for h in orders.heartbeats()] == ["a:1", "a:1", "b:2"]
    second.stand_down()


def test_a_redis_lease_left_unrenewed_expires_and_a_standby_takes_over(
    ledger_client: LedgerClient, redis_broker: CeleryEnqueuer, redis_db_url: str, orders: Orders
) -> None:
    gone_lease = redis_lease(redis_db_url, "gone:1", ttl_s=0.5)
    gone = officer(ledger_client, redis_broker, gone_lease, "gone:1")
    standby = officer(
        ledger_client, redis_broker, redis_lease(redis_db_url, "b:2", ttl_s=0.5), "b:2"
    )
    assert gone.watch(1) is not None
    assert standby.watch(1) is None

    deadline = time.monotonic() + 5  # `gone` never renews, as if it were killed
    while standby.watch(2) is None:
        assert time.monotonic() < deadline, "the standby never took the expired lease"
        time.sleep(0.1)

    assert gone.watch(2) is None
    assert [h.holder for h in orders.heartbeats()] == ["gone:1", "b:2"]


def test_only_one_duty_officer_holds_the_file_lease(tmp_path: Path) -> None:
    first = FileLease(tmp_path, name=DUTY_LEASE, holder="a:1")
    second = FileLease(tmp_path, name=DUTY_LEASE, holder="b:2")

    assert first.acquire()
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    assert not first.acquire()
    second.release()


def test_the_officer_takes_the_lease_where_the_broker_is(tmp_path: Path, redis_db_url: str) -> None:
    on_redis = create_officer(Settings(broker_url=redis_db_url, home=tmp_path))
    on_folder = create_officer(Settings(broker_url=f"filesystem:///{tmp_path}/b", home=tmp_path))

    assert isinstance(on_redis.lease, RedisLease)
    assert isinstance(on_folder.lease, FileLease)
    with pytest.raises(ValueError, match="IRONCLAW_BROKER_URL is not set"):
        create_officer(Settings(broker_url=None, home=tmp_path))


def test_each_heartbeat_records_the_fence_of_the_tenure_it_was_made_under(
    ledger_url: str, redis_db_url: str, tmp_path: Path, orders: Orders
) -> None:
    settings = Settings(broker_url=redis_db_url, home=tmp_path, ledger_url=ledger_url)
    first = create_officer(settings, holder="a:1")
    second = create_officer(settings, holder="b:2")
    assert first.watch(1) is not None
    assert first.watch(2) is not None
    assert second.watch(1) is None
    fence = first.lease.fence
    assert fence is not None

    watcher = RedisLeases(redis_db_url, holder="sentinel:9", ttl_s=30).lease(DUTY_LEASE)
    assert not watcher.revoke("a:1", fence=fence + 1)  # not the tenure it judged: kept
    assert watcher.revoke("a:1", fence=fence)
    assert second.watch(2) is not None
    assert first.watch(3) is None

    recorded = [(h.holder, h.fence) for h in orders.heartbeats()]
    assert recorded == [("a:1", fence), ("a:1", fence), ("b:2", fence + 1)]
    second.stand_down()
