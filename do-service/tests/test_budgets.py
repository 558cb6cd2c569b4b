"""The duty officer pauses dispatch in theaters over their daily budgets, on a real ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from pydantic import ValidationError

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import AfterActionReport, TokenUsage
from ironclaw.duty.adapters.broker import CeleryEnqueuer
from ironclaw.duty.app import budgets
from ironclaw.duty.config import Settings
from ironclaw.duty.domain.budgets import Budget, Budgets
from ironclaw.duty.domain.patrol import DutyPatrol, PatrolPolicy

if TYPE_CHECKING:  # the fixtures' classes, from this folder's conftest
    from conftest import Orders, SetClock

MakePatrol = Callable[..., DutyPatrol]


def register(ledger: LedgerClient, *names: str) -> None:
    for name in names:
        registered = ev.TheaterRegistered(name=name, source="/src", path=f"/theaters/{name}")
        ledger.append(ev.theater_stream(name), [registered], expected_version=0)


def spend(ledger: LedgerClient, theater: str, *, tokens: int, cost_usd: float = 0.0) -> None:
    """A Run in `theater` with one Order whose attempt settled using `tokens` (input only)."""
    run_id, order_id = new_id("run"), new_id("ord")
    ledger.append(
        run_id, [ev.RunReceived(run_id=run_id, theater=theater, message="go")], expected_version=0
    )
    spec = ev.PlannedOrder(order_id=order_id, key="build", objective="do it")
    aar = AfterActionReport(
        outcome="completed", summary="s", tokens=TokenUsage(input=tokens), cost_usd=cost_usd
    )
    ledger.append(
        order_id,
        [
            ev.OrderPlanned(order_id=order_id, run_id=run_id, theater=theater, spec=spec),
            ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=1),
            ev.OrderClaimed(order_id=order_id, run_id=run_id, attempt=1, worker_id="w", lease_s=30),
            ev.OrderCompleted(
                order_id=order_id, run_id=run_id, attempt=1, branch="b", commits=[], aar=aar
            ),
        ],
        expected_version=0,
    )


@pytest.fixture
def patrol_with(
    ledger_client: LedgerClient, folder_broker: CeleryEnqueuer, clock: SetClock
) -> MakePatrol:
    """`patrol_with(budgets)`: a duty patrol enforcing these budgets on the real ledger."""

    def make(budgets: Budgets) -> DutyPatrol:
        policy = PatrolPolicy(budgets=budgets)
        return DutyPatrol(ledger_client, folder_broker, policy, holder="test:1", clock=clock)

    return make


def test_a_theater_over_its_token_budget_is_paused_once_and_the_others_not(
    ledger_client: LedgerClient, orders: Orders, patrol_with: MakePatrol
) -> None:
    register(ledger_client, "alpha", "beta")
    patrol = patrol_with(Budgets(theaters={"alpha": Budget(tokens_per_day=100)}))
    spend(ledger_client, "alpha", tokens=80)
    spend(ledger_client, "beta", tokens=500)
    under = patrol.cycle()
    assert under.did == []
    assert (under.saw["tokens_today"], under.saw["theaters_paused"]) == (580, 0)

    spend(ledger_client, "alpha", tokens=30)
    over = patrol.cycle()

    today = datetime.now(UTC).date()
    reason = f"daily budget of theater 'alpha' spent: 110 of 100 tokens used on {today} (UTC)"
    assert over.did == [f"paused alpha: {reason}"]
    assert (over.saw["tokens_today"], over.saw["theaters_paused"]) == (610, 1)
    assert ledger_client.get_theater("alpha").dispatch_paused == reason
    assert ledger_client.get_theater("beta").dispatch_paused is None
    (paused,) = orders.of_type(ev.theater_stream("alpha"), "DispatchPaused")
    assert paused.metadata.actor == "duty"
    still = patrol.cycle()
    assert still.did == []
    assert still.saw["theaters_paused"] == 1
    assert len(orders.of_type(ev.theater_stream("alpha"), "DispatchPaused")) == 1


def test_a_raised_budget_resumes_dispatch(
    ledger_client: LedgerClient, orders: Orders, patrol_with: MakePatrol
) -> None:
    register(ledger_client, "alpha")
    spend(ledger_client, "alpha", tokens=0, cost_usd=2.5)
    patrol_with(Budgets(theaters={"alpha": Budget(cost_per_day_usd=2.0)})).cycle()
    assert ledger_client.get_theater("alpha").dispatch_paused == (
        f"daily budget of theater 'alpha' spent: $2.5000 of $2.0000 used on "
        f"{datetime.now(UTC).date()} (UTC)"
    )

    raised = patrol_with(Budgets(theaters={"alpha": Budget(cost_per_day_usd=10.0)})).cycle()

    assert raised.did == ["resumed alpha"]
    assert raised.saw["theaters_paused"] == 0
    assert raised.saw["cost_today_micro_usd"] == 2_500_000
    assert ledger_client.get_theater("alpha").dispatch_paused is None
    assert [e.type for e in orders.events(ev.theater_stream("alpha"))] == [
        "TheaterRegistered",
        "DispatchPaused",
        "DispatchResumed",
    ]


def test_a_new_day_resumes_dispatch(
    ledger_client: LedgerClient, clock: SetClock, patrol_with: MakePatrol
) -> None:
    register(ledger_client, "alpha")
    patrol = patrol_with(Budgets(theaters={"alpha": Budget(tokens_per_day=10)}))
    spend(ledger_client, "alpha", tokens=10)
    assert patrol.cycle().saw["theaters_paused"] == 1

    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    clock.at(midnight + timedelta(days=1), plus_s=1)
    tomorrow = patrol.cycle()

    assert "resumed alpha" in tomorrow.did  # (a day later the rest of the patrol acts too)
    assert tomorrow.saw["tokens_today"] == 0
    assert ledger_client.get_theater("alpha").dispatch_paused is None


def test_the_garrison_budget_counts_every_theater_together(
    ledger_client: LedgerClient, patrol_with: MakePatrol
) -> None:
    register(ledger_client, "alpha", "beta")
    patrol = patrol_with(
        Budgets(
            garrison=Budget(tokens_per_day=100),
            theaters={"alpha": Budget(tokens_per_day=1000)},
        )
    )
    spend(ledger_client, "alpha", tokens=60)
    assert patrol.cycle().did == []
    spend(ledger_client, "beta", tokens=60)

    heartbeat = patrol.cycle()

    reason = (
        "daily garrison budget spent: 120 of 100 tokens used by all theaters on "
        f"{datetime.now(UTC).date()} (UTC)"
    )
    assert heartbeat.did == [f"paused alpha: {reason}", f"paused beta: {reason}"]
    assert heartbeat.saw["theaters_paused"] == 2


def test_without_budgets_nothing_is_paused_and_usage_is_still_reported(
    ledger_client: LedgerClient, patrol_with: MakePatrol
) -> None:
    register(ledger_client, "alpha")
    spend(ledger_client, "alpha", tokens=10_000, cost_usd=99.0)

    heartbeat = patrol_with(Budgets()).cycle()

    assert heartbeat.did == []
    assert heartbeat.saw["tokens_today"] == 10_000
    assert heartbeat.saw["cost_today_micro_usd"] == 99_000_000
    assert heartbeat.saw["theaters_paused"] == 0


def test_budgets_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRONCLAW_BUDGET_TOKENS_PER_DAY", "1000000")
    monkeypatch.setenv("IRONCLAW_THEATER_BUDGETS", '{"alpha": {"cost_per_day_usd": 5}}')

    assert budgets(Settings()) == Budgets(
        garrison=Budget(tokens_per_day=1_000_000),
        theaters={"alpha": Budget(cost_per_day_usd=5.0)},
    )
    monkeypatch.setenv("IRONCLAW_THEATER_BUDGETS", '{"alpha": {"tokens": 5}}')
    with pytest.raises(ValidationError, match="tokens"):
        Settings()
