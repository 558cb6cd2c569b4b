"""Fixtures of the duty officer's tests: Orders in real states on a real ledger, a set clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.events import StoredEvent
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import AfterActionReport, OrderBudget
from ironclaw.duty.adapters.broker import CeleryEnqueuer
from ironclaw.duty.domain.patrol import PATROL_STREAM, DutyPatrol, PatrolPolicy


class Orders:
    """Appends what co and the workers would, so Orders reach real states through real events."""

    def __init__(self, ledger: LedgerClient) -> None:
        self.ledger = ledger

    def issued(self, **budget: int) -> OrderView:
        """A new Run with one Order, issued as attempt 1, with `budget` overrides."""
        run_id, order_id = new_id("run"), new_id("ord")
        spec = ev.PlannedOrder(
            order_id=order_id, key="build", objective="do it", budget=OrderBudget(**budget)
        )
        self.ledger.append(
            run_id,
            [ev.RunReceived(run_id=run_id, theater="default", message="go")],
            expected_version=0,
        )
        planned_run = ev.RunPlanned(run_id=run_id, planner="test", orders=[spec])
        self.ledger.append(run_id, [planned_run], expected_version=1)
        planned = ev.OrderPlanned(order_id=order_id, run_id=run_id, theater="default", spec=spec)
        issued = ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=1)
        self.ledger.append(order_id, [planned, issued], expected_version=0)
        return self.view(order_id)

    def view(self, order_id: str) -> OrderView:
        return self.ledger.get_order(order_id)

    def claim(self, order: OrderView, *, lease_s: int = 1, start: bool = True) -> OrderView:
        """The current attempt claimed by a worker with a `lease_s` lease, and started."""
        current = self.view(order.order_id)
        ids = {"order_id": current.order_id, "run_id": current.run_id, "attempt": current.attempt}
        claimed: list[ev.EventPayload] = [ev.OrderClaimed(**ids, worker_id="w1", lease_s=lease_s)]
        if start:
            branch = f"ironclaw/{current.order_id}/{current.attempt}"
            claimed.append(
                ev.AttemptStarted(
                    **ids, branch=branch, worktree="/tmp/wt", base_commit="a" * 40, engine="command"
                )
            )
        self.ledger.append(current.order_id, claimed, expected_version=current.version)
        return self.view(order.order_id)

    def signal(self, order: OrderView, *, lease_s: int) -> OrderView:
        current = self.view(order.order_id)
        beat = ev.SignalEmitted(
            order_id=current.order_id, attempt=current.attempt, progress=0.5, lease_s=lease_s
        )
        self.ledger.append(current.order_id, [beat], expected_version=None)
        return self.view(order.order_id)

    def complete(self, order: OrderView) -> OrderView:
        current = self.view(order.order_id)
        done = ev.OrderCompleted(
            order_id=current.order_id,
            run_id=current.run_id,
            attempt=current.attempt,
            branch=f"ironclaw/{current.order_id}/{current.attempt}",
            commits=["b" * 40],
            aar=AfterActionReport(outcome="completed", summary="did it"),
        )
        self.ledger.append(current.order_id, [done], expected_version=current.version)
        return self.view(order.order_id)

    def recovery(self, order: OrderView, *, attempt: int, reason: str = "looping") -> OrderView:
        verdict = ev.RecoveryRequired(
            order_id=order.order_id,
            attempt=attempt,
            reason=reason,  # type: ignore[arg-type]
            detail="same tool call 5 times",
        )
        self.ledger.append(order.order_id, [verdict], expected_version=None)
        return self.view(order.order_id)

    def events(self, stream_id: str) -> list[StoredEvent]:
        return self.ledger.read_stream(stream_id).events

    def of_type(self, stream_id: str, event_type: str) -> list[StoredEvent]:
        return [e for e in self.events(stream_id) if e.type == event_type]

    def heartbeats(self) -> list[ev.PatrolCompleted]:
        try:
            events = self.events(PATROL_STREAM)
        except Exception:
            return []
        return [ev.PatrolCompleted.model_validate(e.data) for e in events]


class SetClock:
    """The patrol's clock: the real time until the test sets it, then what the test says."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)

    def at(self, moment: datetime, *, plus_s: float = 0) -> None:
        self.now = moment + timedelta(seconds=plus_s)


@pytest.fixture
def orders(ledger_client: LedgerClient) -> Orders:
    return Orders(ledger_client)


@pytest.fixture
def clock() -> SetClock:
    return SetClock()


@pytest.fixture
def folder_broker(tmp_path: Path) -> Iterator[CeleryEnqueuer]:
    """A real broker without a server: kombu's filesystem transport in a temporary folder."""
    enqueuer = CeleryEnqueuer(f"filesystem:///{tmp_path / 'broker'}")
    yield enqueuer
    enqueuer.close()


@pytest.fixture
def patrol_factory(
    ledger_client: LedgerClient, folder_broker: CeleryEnqueuer, clock: SetClock
) -> Callable[..., DutyPatrol]:
    """`make(**policy)`: a duty patrol on the real ledger, the folder broker and the set clock."""

    def make(enqueuer: CeleryEnqueuer | None = None, **policy: float) -> DutyPatrol:
        settings = PatrolPolicy(
            lease_grace_s=policy.get("lease_grace_s", 0.0),
            backoff_base_s=policy.get("backoff_base_s", 0.0),
            integration_resend_after_s=policy.get("integration_resend_after_s", 5.0),
        )
        return DutyPatrol(
            ledger_client, enqueuer or folder_broker, settings, holder="test:1", clock=clock
        )

    return make
