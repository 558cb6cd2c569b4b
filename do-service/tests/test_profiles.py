"""The duty officer disables a profile failing N times in a row, on a real ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import AfterActionReport
from ironclaw.duty.adapters.broker import CeleryEnqueuer
from ironclaw.duty.domain.patrol import DutyPatrol, PatrolPolicy

if TYPE_CHECKING:  # the fixtures' classes, from this folder's conftest
    from conftest import Orders, SetClock


def settle(ledger: LedgerClient, profile: str | None, *, completed: bool) -> None:
    """A Run with one Order on `profile`: issued, claimed by a unit, then completed or failed."""
    run_id, order_id = new_id("run"), new_id("ord")
    ledger.append(
        run_id, [ev.RunReceived(run_id=run_id, theater="default", message="go")], expected_version=0
    )
    spec = ev.PlannedOrder(order_id=order_id, key="build", objective="do it", profile=profile)
    aar = AfterActionReport(outcome="completed" if completed else "failed", summary="s")
    settling: ev.EventPayload = (
        ev.OrderCompleted(
            order_id=order_id, run_id=run_id, attempt=1, branch="b", commits=[], aar=aar
        )
        if completed
        else ev.OrderFailed(order_id=order_id, run_id=run_id, attempt=1, reason="tests failed")
    )
    ledger.append(
        order_id,
        [
            ev.OrderPlanned(order_id=order_id, run_id=run_id, theater="default", spec=spec),
            ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=1),
            ev.OrderClaimed(order_id=order_id, run_id=run_id, attempt=1, worker_id="w", lease_s=30),
            settling,
        ],
        expected_version=0,
    )


@pytest.fixture
def patrol(
    ledger_client: LedgerClient, folder_broker: CeleryEnqueuer, clock: SetClock
) -> DutyPatrol:
    policy = PatrolPolicy(profile_disable_after=5)
    return DutyPatrol(ledger_client, folder_broker, policy, holder="test:1", clock=clock)


def test_five_failures_in_a_row_disable_the_profile_once(
    ledger_client: LedgerClient, orders: Orders, patrol: DutyPatrol
) -> None:
    for _ in range(4):
        settle(ledger_client, "fast", completed=False)
    settle(ledger_client, None, completed=False)  # another profile's failure changes nothing
    four = patrol.cycle()
    assert four.did == []
    assert four.saw["profiles_failing"] == 0
    assert ledger_client.get_profile("fast").disabled is False

    settle(ledger_client, "fast", completed=False)
    heartbeat = patrol.cycle()

    assert heartbeat.did == ["disabled profile fast"]
    assert (heartbeat.saw["profiles_failing"], heartbeat.saw["profiles_disabled"]) == (1, 1)
    profile = ledger_client.get_profile("fast")
    assert profile.disabled is True
    assert profile.disabled_reason == "5 failures in a row (last: tests failed)"
    (disabled,) = orders.events(ev.profile_stream("fast"))
    assert disabled.type == "ProfileDisabled"
    assert disabled.data["consecutive_failures"] == 5
    assert disabled.metadata.actor == "duty"
    settle(ledger_client, "fast", completed=False)
    again = patrol.cycle()
    assert again.did == []
    assert again.saw["profiles_disabled"] == 1
    assert len(orders.events(ev.profile_stream("fast"))) == 1
    assert ledger_client.get_profile("default").disabled is False


def test_a_success_in_between_keeps_the_profile_enabled(
    ledger_client: LedgerClient, patrol: DutyPatrol
) -> None:
    for completed in (False, False, False, True, False, False, False, False):
        settle(ledger_client, "fast", completed=completed)

    assert patrol.cycle().did == []
    profile = ledger_client.get_profile("fast")
    assert (profile.consecutive_failures, profile.disabled) == (4, False)


def test_enabling_resets_the_streak_and_five_new_failures_disable_it_again(
    ledger_client: LedgerClient, orders: Orders, patrol: DutyPatrol
) -> None:
    for _ in range(5):
        settle(ledger_client, "fast", completed=False)
    assert patrol.cycle().did == ["disabled profile fast"]

    enabled = ev.ProfileEnabled(profile="fast", operator="ana")  # as the gateway appends it
    ledger_client.append(ev.profile_stream("fast"), [enabled], expected_version=1)
    profile = ledger_client.get_profile("fast")
    assert (profile.disabled, profile.consecutive_failures, profile.version) == (False, 0, 2)
    for _ in range(4):
        settle(ledger_client, "fast", completed=False)
    assert patrol.cycle().did == []

    settle(ledger_client, "fast", completed=False)
    assert patrol.cycle().did == ["disabled profile fast"]
    assert [e.type for e in orders.events(ev.profile_stream("fast"))] == [
        "ProfileDisabled",
        "ProfileEnabled",
        "ProfileDisabled",
    ]


def test_the_limit_is_the_policys(
    ledger_client: LedgerClient, folder_broker: CeleryEnqueuer, clock: SetClock
) -> None:
    policy = PatrolPolicy(profile_disable_after=2)
    patrol = DutyPatrol(ledger_client, folder_broker, policy, holder="test:1", clock=clock)
    settle(ledger_client, "fast", completed=False)
    assert patrol.cycle().did == []
    settle(ledger_client, "fast", completed=False)
    assert patrol.cycle().did == ["disabled profile fast"]
