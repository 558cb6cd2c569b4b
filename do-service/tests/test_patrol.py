"""One duty patrol cycle on a real ledger: dead attempts, retries, backoff, integration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.models import OrderStatus
from ironclaw.duty.domain.patrol import DutyPatrol
from ironclaw.duty.domain.recovery import LEASE_EXPIRED, reissue_or_fail

if TYPE_CHECKING:  # the fixtures' classes, from this folder's conftest
    from conftest import Orders, SetClock

MakePatrol = Callable[..., DutyPatrol]


def test_claimed_order_with_expired_lease_and_no_signal_is_reissued_as_attempt_2(
    orders: Orders, clock: SetClock, patrol_factory: MakePatrol
) -> None:
    order = orders.claim(orders.issued(heartbeat_timeout_s=5), lease_s=1)
    patrol = patrol_factory(lease_grace_s=2)
    claimed_at = order.attempts[-1].claimed_at
    assert claimed_at is not None

    clock.at(claimed_at, plus_s=4)  # lease over, within grace and heartbeat timeout
    assert patrol.cycle().did == []
    clock.at(claimed_at, plus_s=6)
    heartbeat = patrol.cycle()

    after = orders.view(order.order_id)
    assert (after.status, after.attempt) == (OrderStatus.ISSUED, 2)
    assert [a.status for a in after.attempts] == ["superseded", "issued"]
    (reissue,) = [
        e for e in orders.of_type(order.order_id, "OrderIssued") if e.data["attempt"] == 2
    ]
    assert reissue.data["reason"] == "lease_expired"
    assert heartbeat.did == [f"reissued {order.order_id}#2"]
    assert heartbeat.saw["lease_expired"] == 1
    assert patrol.cycle().did == []  # attempt 2 is issued, not dead


def test_slow_but_healthy_order_is_never_reissued(
    orders: Orders, clock: SetClock, patrol_factory: MakePatrol
) -> None:
    order = orders.claim(orders.issued(heartbeat_timeout_s=5), lease_s=1)
    patrol = patrol_factory()
    for _ in range(3):
        # The unit renews a short lease with each Signal: between them the lease may lapse,
        # but a Signal within the heartbeat timeout means it is alive.
        order = orders.signal(order, lease_s=1)
        last_signal = order.attempts[-1].last_signal_at
        assert last_signal is not None
        for seconds in (0, 2, 4.5):
            clock.at(last_signal, plus_s=seconds)
            assert patrol.cycle().did == []
    order = orders.signal(order, lease_s=600)  # a long lease: silence within it is fine too
    last_signal = order.attempts[-1].last_signal_at
    assert last_signal is not None
    clock.at(last_signal, plus_s=300)
    assert patrol.cycle().did == []

    after = orders.view(order.order_id)
    assert (after.status, after.attempt) == (OrderStatus.RUNNING, 1)
    assert len(orders.of_type(order.order_id, "OrderIssued")) == 1


def test_attempts_beyond_retries_fail_the_order(
    orders: Orders, clock: SetClock, patrol_factory: MakePatrol
) -> None:
    order = orders.issued(heartbeat_timeout_s=5, retries=1)
    patrol = patrol_factory()
    for attempt in (1, 2):
        order = orders.claim(order, lease_s=1)
        claimed_at = order.attempts[-1].claimed_at
        assert claimed_at is not None
        assert order.attempt == attempt
        clock.at(claimed_at, plus_s=10)
        patrol.cycle()

    after = orders.view(order.order_id)
    assert (after.status, after.attempt) == (OrderStatus.FAILED, 2)
    (failed,) = orders.of_type(order.order_id, "OrderFailed")
    assert failed.data["reason"] == "retries exhausted: lease expired"
    assert failed.data["attempt"] == 2
    assert patrol.cycle().did == []


def test_backoff_holds_each_next_attempt_back_twice_as_long(
    orders: Orders, clock: SetClock, patrol_factory: MakePatrol
) -> None:
    order = orders.issued(heartbeat_timeout_s=5, retries=5)
    patrol = patrol_factory(backoff_base_s=10)
    for attempt, backoff_s in ((1, 10), (2, 20)):
        order = orders.claim(order, lease_s=1)
        issued_at = order.attempts[-1].issued_at
        clock.at(issued_at, plus_s=backoff_s - 1)  # dead, but the backoff has not run out
        held = patrol.cycle()
        assert held.did == []
        assert held.saw["held_back"] == 1
        assert orders.view(order.order_id).attempt == attempt
        clock.at(issued_at, plus_s=backoff_s + 1)
        assert patrol.cycle().did == [f"reissued {order.order_id}#{attempt + 1}"]
        order = orders.view(order.order_id)
    assert order.attempt == 3


def test_recovery_required_for_the_current_attempt_reissues_it(
    orders: Orders, clock: SetClock, patrol_factory: MakePatrol
) -> None:
    order = orders.signal(orders.claim(orders.issued()), lease_s=600)  # lease alive
    patrol = patrol_factory()
    assert patrol.cycle().did == []
    orders.recovery(order, attempt=1, reason="looping")

    heartbeat = patrol.cycle()
    after = orders.view(order.order_id)
    assert (after.status, after.attempt) == (OrderStatus.ISSUED, 2)
    assert heartbeat.did == [f"reissued {order.order_id}#2"]
    assert heartbeat.saw["recovery_required"] == 1
    reissue = orders.of_type(order.order_id, "OrderIssued")[-1]
    assert reissue.data["reason"] == "recovery_required"

    # A late verdict on the superseded attempt says nothing about attempt 2.
    order = orders.signal(orders.claim(after), lease_s=600)
    orders.recovery(order, attempt=1, reason="stalled")
    assert orders.view(order.order_id).recovery_reason is not None
    assert patrol.cycle().did == []
    assert orders.view(order.order_id).attempt == 2


def test_recovery_required_past_the_retries_fails_the_order(
    orders: Orders, patrol_factory: MakePatrol
) -> None:
    order = orders.signal(orders.claim(orders.issued(retries=0)), lease_s=600)
    orders.recovery(order, attempt=1, reason="stalled")

    patrol_factory().cycle()

    after = orders.view(order.order_id)
    assert after.status == OrderStatus.FAILED
    (failed,) = orders.of_type(order.order_id, "OrderFailed")
    assert failed.data["reason"].startswith("retries exhausted: recovery required (stalled")


def test_completed_but_unintegrated_order_gets_integration_ready_once(
    orders: Orders, clock: SetClock, patrol_factory: MakePatrol
) -> None:
    order = orders.complete(orders.claim(orders.issued()))
    finished_at = order.attempts[-1].finished_at
    assert finished_at is not None
    patrol = patrol_factory(integration_resend_after_s=5)

    clock.at(finished_at, plus_s=4)
    assert patrol.cycle().did == []
    clock.at(finished_at, plus_s=6)
    assert patrol.cycle().did == [f"integration_ready {order.order_id}#1"]
    for later_s in (7, 60, 600):
        clock.at(finished_at, plus_s=later_s)
        assert patrol.cycle().did == []
    assert patrol_factory(integration_resend_after_s=5).cycle().did == []  # a restarted DO

    (ready,) = orders.of_type(order.order_id, "IntegrationReady")
    assert ready.data == {"order_id": order.order_id, "run_id": order.run_id, "attempt": 1}


def test_every_cycle_appends_patrol_completed_with_what_it_saw_and_did(
    orders: Orders, clock: SetClock, patrol_factory: MakePatrol
) -> None:
    orders.issued()
    dead = orders.claim(orders.issued(heartbeat_timeout_s=5), lease_s=1)
    healthy = orders.signal(orders.claim(orders.issued()), lease_s=600)
    done = orders.complete(orders.claim(orders.issued()))
    patrol = patrol_factory(lease_grace_s=0)
    claimed_at = dead.attempts[-1].claimed_at
    assert claimed_at is not None

    clock.at(claimed_at, plus_s=10)
    first = patrol.cycle()
    second = patrol.cycle()

    assert orders.heartbeats() == [first, second]
    assert (first.scope, first.patrol, first.holder) == ("garrison", "duty", "test:1")
    assert first.saw == {
        "issued": 1,
        "active": 2,
        "lease_expired": 1,
        "completed": 1,
        "unintegrated": 1,
        "profiles_failing": 0,
        "profiles_disabled": 0,
        "tokens_today": 0,
        "cost_today_micro_usd": 0,
        "theaters_paused": 0,
    }
    assert first.did == [f"reissued {dead.order_id}#2", f"integration_ready {done.order_id}#1"]
    assert second.did == []
    assert (second.saw["issued"], second.saw["active"]) == (2, 1)
    assert orders.view(healthy.order_id).attempt == 1


def test_a_reissue_at_a_stale_version_does_nothing(
    orders: Orders, clock: SetClock, ledger_client: LedgerClient
) -> None:
    stale = orders.claim(orders.issued(heartbeat_timeout_s=5), lease_s=1)
    orders.signal(stale, lease_s=1)  # the unit moved the Order on after the patrol read it
    attempt = stale.attempts[-1]
    assert attempt.claimed_at is not None

    done = reissue_or_fail(
        ledger_client,
        stale,
        attempt,
        LEASE_EXPIRED,
        attempt.claimed_at + timedelta(seconds=60),
        backoff_base_s=0,
    )

    assert done is None
    assert orders.view(stale.order_id).attempt == 1
    assert len(orders.of_type(stale.order_id, "OrderIssued")) == 1


def test_the_patrol_resends_integration_even_after_co_asked_once(
    orders: Orders, clock: SetClock, patrol_factory: MakePatrol, ledger_client: LedgerClient
) -> None:
    order = orders.complete(orders.claim(orders.issued()))
    co_ready = ev.IntegrationReady(order_id=order.order_id, run_id=order.run_id, attempt=1)
    ledger_client.append(order.order_id, [co_ready], expected_version=order.version)
    finished_at = order.attempts[-1].finished_at
    assert finished_at is not None

    clock.at(finished_at, plus_s=10)
    assert patrol_factory(integration_resend_after_s=5).cycle().did == [
        f"integration_ready {order.order_id}#1"
    ]
    assert len(orders.of_type(order.order_id, "IntegrationReady")) == 2


def test_an_attempt_past_its_ttl_is_reissued_as_overdue_though_it_signals(
    orders: Orders, clock: SetClock, patrol_factory: MakePatrol
) -> None:
    order = orders.claim(orders.issued(ttl_s=60, heartbeat_timeout_s=30), lease_s=600)
    patrol = patrol_factory(lease_grace_s=5)
    started = order.attempts[-1].started_at
    assert started is not None

    order = orders.signal(order, lease_s=600)
    clock.at(started, plus_s=64)  # past the TTL, within the grace
    assert patrol.cycle().did == []
    clock.at(started, plus_s=66)
    heartbeat = patrol.cycle()

    assert heartbeat.did == [f"reissued {order.order_id}#2"]
    assert heartbeat.saw["overdue"] == 1
    (reissue,) = [
        e for e in orders.of_type(order.order_id, "OrderIssued") if e.data["attempt"] == 2
    ]
    assert reissue.data["reason"] == "overdue"
