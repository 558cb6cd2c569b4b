"""The sentinel on a real ledger and Redis: it alerts on a stale or growing duty officer, once,
fails a stale one over by revoking its lease, and only one sentinel is active at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openai_server import free_port

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.lease import LeaseHolder

if TYPE_CHECKING:  # the fixtures' classes, from this folder's conftest
    from conftest import Duty, MakeSentinel, SetClock, Webhook

STALE_AFTER_S = 75.0  # as `make_sentinel` sets them
TAKEOVER_WITHIN_S = 40.0


def test_a_fresh_heartbeat_raises_no_alert(
    duty: Duty, make_sentinel: MakeSentinel, webhook: Webhook
) -> None:
    lease = duty.on_watch("duty-a:1")
    duty.heartbeat("duty-a:1", fence=lease.fence)
    sentinel = make_sentinel()

    first, second = sentinel.watch(1), sentinel.watch(2)

    assert first is not None
    assert second is not None
    assert first.did == second.did == []
    assert first.patrol == "sentinel"
    assert first.fence == sentinel.lease.fence
    assert webhook.received == []
    assert duty.sentinel_events(ev.SentinelAlerted) == []
    assert duty.lease("watcher:0").holder() == LeaseHolder("duty-a:1", lease.fence or 0)
    assert [p.holder for p in duty.sentinel_events(ev.PatrolCompleted)] == ["sentinel:1"] * 2


def test_a_stale_duty_officer_is_alerted_once_and_its_lease_revoked_for_a_standby(
    duty: Duty, make_sentinel: MakeSentinel, webhook: Webhook, clock: SetClock
) -> None:
    stale = duty.on_watch("duty-a:1")
    fence = stale.fence
    assert fence is not None
    duty.heartbeat("duty-a:1", fence=fence)
    standby = duty.lease("duty-b:2")
    assert not standby.acquire()
    sentinel = make_sentinel()
    assert sentinel.watch(1) is not None  # fresh: nothing to do

    clock.ahead_s = STALE_AFTER_S + 5
    cycle = sentinel.watch(2)

    assert cycle is not None
    assert f"revoked_duty_lease:duty-a:1:{fence}" in cycle.did
    assert "firing:duty_heartbeat_stale" in cycle.did
    assert webhook.kinds() == ["duty_failover", "duty_heartbeat_stale"]
    (failover,) = duty.sentinel_events(ev.DutyFailover)
    assert (failover.stale_holder, failover.fence, failover.holder) == (
        "duty-a:1",
        fence,
        "sentinel:1",
    )
    assert failover.stale_for_s >= STALE_AFTER_S
    (alerted,) = duty.sentinel_events(ev.SentinelAlerted)
    assert alerted.condition == "duty_heartbeat_stale"
    assert "duty-a:1" in alerted.detail

    # The standby takes the lease at its next round, under a higher fence; the stale one lost it.
    assert standby.acquire()
    assert standby.fence == fence + 1
    assert not stale.acquire()

    # Still stale, the standby not yet patrolled: no alert again, the standby's tenure is left be.
    assert sentinel.watch(3) is not None
    assert len(webhook.received) == 2
    assert duty.lease("watcher:0").holder() == LeaseHolder("duty-b:2", fence + 1)

    duty.heartbeat("duty-b:2", fence=standby.fence)
    clock.ahead_s = 0
    recovered = sentinel.watch(4)
    assert recovered is not None
    assert f"duty_resumed:duty-b:2:{fence + 1}" in recovered.did
    assert "resolved:duty_heartbeat_stale" in recovered.did
    assert webhook.kinds("resolved") == ["duty_heartbeat_stale"]


def test_no_standby_taking_over_is_alerted(
    duty: Duty, make_sentinel: MakeSentinel, webhook: Webhook, clock: SetClock
) -> None:
    lease = duty.on_watch("duty-a:1")
    duty.heartbeat("duty-a:1", fence=lease.fence)
    sentinel = make_sentinel()

    clock.ahead_s = STALE_AFTER_S + 5
    assert sentinel.watch(1) is not None
    assert webhook.kinds() == ["duty_failover", "duty_heartbeat_stale"]
    clock.ahead_s += TAKEOVER_WITHIN_S / 2
    assert sentinel.watch(2) is not None
    assert "no_standby_duty_officer" not in webhook.kinds()

    clock.ahead_s += TAKEOVER_WITHIN_S
    assert sentinel.watch(3) is not None
    assert webhook.kinds()[-1] == "no_standby_duty_officer"
    conditions = [a.condition for a in duty.sentinel_events(ev.SentinelAlerted)]
    assert conditions == ["duty_heartbeat_stale", "no_standby_duty_officer"]


def test_an_alert_still_firing_is_sent_again_only_after_the_reminder_period(
    duty: Duty, make_sentinel: MakeSentinel, webhook: Webhook, clock: SetClock
) -> None:
    duty.heartbeat("duty-a:1")  # nobody holds the lease: nothing to revoke
    sentinel = make_sentinel(remind_after_s=600.0, takeover_within_s=10_000.0)

    clock.ahead_s = STALE_AFTER_S + 5
    for round_number in range(1, 4):
        sentinel.watch(round_number)
    assert webhook.kinds() == ["duty_heartbeat_stale"]

    clock.ahead_s += 601
    sentinel.watch(4)
    assert webhook.kinds() == ["duty_heartbeat_stale"] * 2
    assert [body["reminder"] for body in webhook.received] == [False, True]


def test_a_backlog_growing_for_k_cycles_is_alerted_and_one_that_holds_is_not(
    duty: Duty, make_sentinel: MakeSentinel, webhook: Webhook
) -> None:
    sentinel = make_sentinel(growth_cycles=3)
    for backlog in (1, 2, 2, 3):  # grew, held, grew: not 3 in a row
        duty.heartbeat("duty-a:1", backlog=backlog)
        assert sentinel.watch(backlog) is not None
    assert webhook.received == []

    duty.heartbeat("duty-a:1", backlog=5)  # 2, 3, 5: two in a row since it held
    assert sentinel.watch(5) is not None
    assert webhook.received == []

    duty.heartbeat("duty-a:1", backlog=8)
    grown = sentinel.watch(6)
    assert grown is not None
    assert grown.did == ["firing:duty_backlog_growing"]
    assert grown.saw["duty_backlog"] == 8
    (body,) = webhook.received
    assert body["kind"] == "duty_backlog_growing"
    assert body["detail"] == "overdue backlog grew 3 duty cycles in a row: 2 -> 3 -> 5 -> 8"

    duty.heartbeat("duty-a:1", backlog=7)
    shrunk = sentinel.watch(7)
    assert shrunk is not None
    assert shrunk.did == ["resolved:duty_backlog_growing"]


def test_only_one_sentinel_is_active_and_a_standby_takes_over_under_a_higher_fence(
    duty: Duty, make_sentinel: MakeSentinel
) -> None:
    duty.heartbeat("duty-a:1")
    first, second = make_sentinel("sentinel:1"), make_sentinel("sentinel:2")

    assert first.watch(1) is not None
    assert second.watch(1) is None
    assert first.watch(2) is not None
    assert second.watch(2) is None
    first.stand_down()
    assert second.watch(3) is not None
    assert first.watch(3) is None

    cycles = duty.sentinel_events(ev.PatrolCompleted)
    recorded = [(c.holder, c.fence) for c in cycles]
    fence = recorded[0][1]
    assert fence is not None
    assert recorded == [("sentinel:1", fence), ("sentinel:1", fence), ("sentinel:2", fence + 1)]
    second.stand_down()


def test_a_failing_webhook_is_retried_and_one_that_keeps_failing_never_stops_the_patrol(
    duty: Duty, make_sentinel: MakeSentinel, webhook: Webhook, clock: SetClock
) -> None:
    duty.heartbeat("duty-a:1")
    webhook.failures = 2
    sentinel = make_sentinel(takeover_within_s=10_000.0)
    clock.ahead_s = STALE_AFTER_S + 5

    assert sentinel.watch(1) is not None
    assert webhook.refused == 2
    assert webhook.kinds() == ["duty_heartbeat_stale"]

    webhook.failures = 100  # more than the tries: given up, logged, the cycle goes on
    duty.heartbeat("duty-a:1")
    clock.ahead_s = 0
    cleared = sentinel.watch(2)
    assert cleared is not None
    assert "resolved:duty_heartbeat_stale" in cleared.did
    assert webhook.refused == 2 + 3
    assert webhook.kinds("resolved") == []


def test_a_standby_that_takes_the_lease_but_never_patrols_is_failed_over_in_turn(
    duty: Duty, make_sentinel: MakeSentinel, webhook: Webhook, clock: SetClock
) -> None:
    first = duty.on_watch("duty-a:1")
    duty.heartbeat("duty-a:1", fence=first.fence)
    sentinel = make_sentinel(takeover_within_s=10_000.0)
    clock.ahead_s = STALE_AFTER_S + 5
    assert sentinel.watch(1) is not None
    hung = duty.on_watch("duty-b:2")  # takes over, then hangs before its first cycle

    clock.ahead_s += STALE_AFTER_S / 2
    waited = sentinel.watch(2)
    assert waited is not None
    assert not any(d.startswith("revoked_duty_lease") for d in waited.did)

    clock.ahead_s += STALE_AFTER_S
    revoked = sentinel.watch(3)
    assert revoked is not None
    assert f"revoked_duty_lease:duty-b:2:{hung.fence}" in revoked.did
    stale_holders = [f.stale_holder for f in duty.sentinel_events(ev.DutyFailover)]
    assert stale_holders == ["duty-a:1", "duty-b:2"]
    assert duty.lease("watcher:0").holder() is None


def test_a_ledger_out_of_reach_is_alerted_once_it_stays_away(
    duty: Duty, make_sentinel: MakeSentinel, webhook: Webhook, clock: SetClock
) -> None:
    closed = LedgerClient(f"http://127.0.0.1:{free_port()}", retry_for_s=0)
    blind = make_sentinel(ledger=closed)

    assert blind.watch(1) is None
    clock.ahead_s = STALE_AFTER_S / 2
    assert blind.watch(2) is None
    assert webhook.received == []
    clock.ahead_s = STALE_AFTER_S + 1
    assert blind.watch(3) is None
    assert blind.watch(4) is None
    assert webhook.kinds() == ["ledger_unreachable"]
    closed.close()
