"""Fixtures of the co service's tests: a driver that plays the other services on a real ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.events import StoredEvent
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import AfterActionReport, OrderStatus, RequestedOrder, TokenUsage
from ironclaw.contracts.tasks import OrderSettled, PlanRun

REPO = Path(__file__).resolve().parents[2]
SHIPPED_PLAYBOOKS = REPO / "garrison" / "playbooks"


class FleetDriver:
    """Appends what the gateway, workers and integration would, and reads back what co did."""

    def __init__(self, ledger: LedgerClient) -> None:
        self.ledger = ledger

    # --- gateway ------------------------------------------------------------------------------

    def receive(
        self,
        message: str = "Add a greeting to the README",
        *,
        orders: list[RequestedOrder] | None = None,
        playbook: str | None = None,
        profile: str | None = None,
    ) -> PlanRun:
        """A new Run, as `POST /chat` or `POST /runs` records it; returns its `co.plan_run`."""
        run_id = new_id("run")
        received = ev.RunReceived(
            run_id=run_id,
            theater="default",
            message=message,
            playbook=playbook,
            profile=profile,
            requested_orders=orders or [],
        )
        result = self.ledger.append(run_id, [received], expected_version=0)
        return PlanRun(event_id=result.events[0].id, run_id=run_id)

    def events(self, stream_id: str) -> list[StoredEvent]:
        return self.ledger.read_stream(stream_id).events

    def types(self, stream_id: str) -> list[str]:
        return [event.type for event in self.events(stream_id)]

    def planned(self, run_id: str) -> ev.RunPlanned:
        (event,) = [e for e in self.events(run_id) if e.type == "RunPlanned"]
        return ev.RunPlanned.model_validate(event.data)

    def orders(self, run_id: str) -> dict[str, OrderView]:
        """The Run's Orders by key."""
        return {o.key: o for o in self.ledger.list_orders(run_id=run_id, limit=1000)}

    # --- worker -------------------------------------------------------------------------------

    def complete(self, order: OrderView, summary: str = "did it", tokens: int = 100) -> None:
        """Claim, start and complete the Order's current attempt."""
        self._claim(order)
        aar = AfterActionReport(
            outcome="completed",
            summary=summary,
            tokens=TokenUsage(input=tokens, output=tokens // 10),
            cost_usd=0.01,
        )
        done = ev.OrderCompleted(
            order_id=order.order_id,
            run_id=order.run_id,
            attempt=order.attempt,
            branch=f"ironclaw/{order.order_id}/{order.attempt}",
            commits=["c" * 40],
            aar=aar,
        )
        self.ledger.append(order.order_id, [done], expected_version=None)

    def fail(self, order: OrderView, reason: str = "tests failed") -> None:
        self._claim(order)
        failed = ev.OrderFailed(
            order_id=order.order_id, run_id=order.run_id, attempt=order.attempt, reason=reason
        )
        self.ledger.append(order.order_id, [failed], expected_version=None)

    def block(self, order: OrderView, reason: str = "needs a decision") -> None:
        self._claim(order)
        blocked = ev.OrderBlocked(
            order_id=order.order_id, run_id=order.run_id, attempt=order.attempt, reason=reason
        )
        self.ledger.append(order.order_id, [blocked], expected_version=None)

    def _claim(self, order: OrderView) -> None:
        ids = {"order_id": order.order_id, "run_id": order.run_id, "attempt": order.attempt}
        claimed = ev.OrderClaimed(**ids, worker_id="worker-1", lease_s=60)
        started = ev.AttemptStarted(
            **ids, branch="b", worktree="/tmp/w", base_commit="0" * 40, engine="command"
        )
        self.ledger.append(order.order_id, [claimed, started], expected_version=None)

    # --- integration --------------------------------------------------------------------------

    def integrate(self, order: OrderView, commit: str = "abc123def4567890") -> None:
        ids = {"order_id": order.order_id, "run_id": order.run_id, "attempt": order.attempt}
        started = ev.IntegrationStarted(**ids)
        integrated = ev.Integrated(**ids, theater=order.theater, merged_commit=commit)
        self.ledger.append(order.order_id, [started, integrated], expected_version=None)

    def integration_fails(self, order: OrderView, reason: str = "gate tests failed") -> None:
        ids = {"order_id": order.order_id, "run_id": order.run_id, "attempt": order.attempt}
        failed = ev.IntegrationFailed(**ids, reason=reason)
        self.ledger.append(
            order.order_id, [ev.IntegrationStarted(**ids), failed], expected_version=None
        )

    def settled(self, order: OrderView) -> OrderSettled:
        """The `co.order_settled` the Order's latest event triggered."""
        view = self.ledger.get_order(order.order_id)
        last = self.events(order.order_id)[-1]
        return OrderSettled(
            event_id=last.id, order_id=view.order_id, run_id=view.run_id, status=view.status
        )

    def status(self, order: OrderView) -> OrderStatus:
        return self.ledger.get_order(order.order_id).status


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """The ledger's database: SQLite, unless a test asks for both backends with
    `@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)`.

    A fresh PostgreSQL database and its server cost about a second per test on this machine, so
    the tests whose behaviour depends on the database (transactions, races) run on both, and
    the rest, which exercise co's logic, on SQLite alone.
    """
    backend = getattr(request, "param", "sqlite")
    url: str = request.getfixturevalue(f"{backend}_url")
    return url


@pytest.fixture
def fleet(ledger_client: LedgerClient) -> FleetDriver:
    return FleetDriver(ledger_client)


@pytest.fixture
def shipped_playbooks() -> Path:
    """The garrison's playbooks, as the repository ships them."""
    return SHIPPED_PLAYBOOKS
