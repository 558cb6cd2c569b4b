"""The projector alone, on the in-memory store: transitions, refusals and derived values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ledger_support import aar

from ironclaw.contracts import events as ev
from ironclaw.ledger.domain.projector import project
from ironclaw.ledger.domain.records import EventRecord, EventRefused, StaleAttempt, check_stream
from ironclaw.ledger.domain.store import MemoryStore

RUN, ORDER = "run_01", "ord_01"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Projection:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.versions: dict[str, int] = {}
        self.clock = T0

    def apply(self, stream: str, payload: ev.EventPayload) -> None:
        self.versions[stream] = self.versions.get(stream, 0) + 1
        self.clock += timedelta(seconds=1)
        project(self.store, EventRecord("evt", stream, self.versions[stream], payload, self.clock))

    def order(self) -> dict[str, object]:
        row = self.store.get("orders", (ORDER,))
        assert row is not None
        return row

    def attempt(self, n: int) -> dict[str, object]:
        row = self.store.get("attempts", (ORDER, n))
        assert row is not None
        return row


@pytest.fixture
def issued() -> Projection:
    p = Projection()
    p.apply(RUN, ev.RunReceived(run_id=RUN, theater="default", message="m"))
    spec = ev.PlannedOrder(order_id=ORDER, key="a", objective="o")
    p.apply(RUN, ev.RunPlanned(run_id=RUN, planner="p", orders=[spec]))
    p.apply(ORDER, ev.OrderPlanned(order_id=ORDER, run_id=RUN, theater="default", spec=spec))
    p.apply(ORDER, ev.OrderIssued(order_id=ORDER, run_id=RUN, attempt=1))
    return p


def claim(attempt: int = 1, lease_s: int = 30) -> ev.OrderClaimed:
    return ev.OrderClaimed(
        order_id=ORDER, run_id=RUN, attempt=attempt, worker_id="w", lease_s=lease_s
    )


def test_claim_sets_a_lease_from_the_event_time(issued: Projection) -> None:
    issued.apply(ORDER, claim(lease_s=30))
    assert issued.order()["status"] == "claimed"
    assert issued.order()["lease_expires_at"] == issued.clock + timedelta(seconds=30)
    issued.apply(ORDER, ev.SignalEmitted(order_id=ORDER, attempt=1, progress=0.5, lease_s=60))
    assert issued.attempt(1)["progress"] == 0.5
    assert issued.order()["lease_expires_at"] == issued.clock + timedelta(seconds=60)


def test_a_late_signal_of_a_superseded_attempt_changes_nothing(issued: Projection) -> None:
    issued.apply(ORDER, claim())
    issued.apply(ORDER, ev.OrderIssued(order_id=ORDER, run_id=RUN, attempt=2, reason="stalled"))
    before = dict(issued.order())
    issued.apply(ORDER, ev.SignalEmitted(order_id=ORDER, attempt=1, progress=0.9))
    assert issued.attempt(1)["status"] == "superseded"
    assert {k: v for k, v in issued.order().items() if k not in {"version", "updated_at"}} == {
        k: v for k, v in before.items() if k not in {"version", "updated_at"}
    }


def test_a_superseded_unit_cannot_complete(issued: Projection) -> None:
    issued.apply(ORDER, claim())
    issued.apply(ORDER, ev.OrderIssued(order_id=ORDER, run_id=RUN, attempt=2))
    with pytest.raises(StaleAttempt, match="current attempt is 2"):
        issued.apply(
            ORDER,
            ev.OrderCompleted(
                order_id=ORDER, run_id=RUN, attempt=1, branch="b", commits=[], aar=aar()
            ),
        )


def test_usage_from_every_aar_adds_up_on_the_run(issued: Projection) -> None:
    issued.apply(
        ORDER,
        ev.OrderFailed(
            order_id=ORDER, run_id=RUN, attempt=1, reason="x", aar=aar(tokens=100, cost=0.5)
        ),
    )
    issued.apply(ORDER, ev.OrderIssued(order_id=ORDER, run_id=RUN, attempt=2))
    issued.apply(
        ORDER,
        ev.OrderCompleted(
            order_id=ORDER,
            run_id=RUN,
            attempt=2,
            branch="b",
            commits=["c"],
            aar=aar(tokens=40, cost=0.25),
        ),
    )
    run = issued.store.get("runs", (RUN,))
    assert run is not None
    assert (run["tokens_input"], run["tokens_output"], run["cost_usd"]) == (140, 70, 0.75)


def test_an_attempt_is_integrated_once(issued: Projection) -> None:
    issued.apply(
        ORDER,
        ev.OrderCompleted(
            order_id=ORDER, run_id=RUN, attempt=1, branch="b", commits=["c"], aar=aar()
        ),
    )
    merged = ev.Integrated(
        order_id=ORDER, run_id=RUN, attempt=1, theater="default", merged_commit="m"
    )
    issued.apply(ORDER, merged)
    with pytest.raises(EventRefused, match="is integrated"):
        issued.apply(ORDER, merged)
    with pytest.raises(EventRefused, match="cannot be reissued"):
        issued.apply(ORDER, ev.OrderIssued(order_id=ORDER, run_id=RUN, attempt=2))
    assert issued.order()["integration"] == {
        "status": "integrated",
        "attempt": 1,
        "merged_commit": "m",
        "gates": [],
    }


def test_cancel_settles_the_order_and_its_live_attempt(issued: Projection) -> None:
    issued.apply(ORDER, claim())
    issued.apply(ORDER, ev.OrderCancelled(order_id=ORDER, run_id=RUN, reason="operator"))
    assert (issued.order()["status"], issued.attempt(1)["status"]) == ("cancelled", "cancelled")
    with pytest.raises(EventRefused, match="already cancelled"):
        issued.apply(ORDER, ev.OrderCancelled(order_id=ORDER, run_id=RUN))


def test_an_order_event_naming_another_run_is_refused(issued: Projection) -> None:
    with pytest.raises(EventRefused, match="belongs to run"):
        issued.apply(ORDER, ev.OrderIssued(order_id=ORDER, run_id="run_other", attempt=2))


def test_events_are_checked_against_their_stream() -> None:
    check_stream(ORDER, ev.OrderIssued(order_id=ORDER, run_id=RUN, attempt=1))
    check_stream(
        ev.patrol_stream("duty"),
        ev.PatrolCompleted(scope="g", patrol="duty", holder="h", duration_ms=0),
    )
    with pytest.raises(EventRefused):
        check_stream(RUN, ev.OrderIssued(order_id=ORDER, run_id=RUN, attempt=1))


def test_an_integrating_order_cannot_be_cancelled(issued: Projection) -> None:
    ids = {"order_id": ORDER, "run_id": RUN, "attempt": 1}
    issued.apply(ORDER, ev.OrderCompleted(**ids, branch="b", commits=["c"], aar=aar()))
    issued.apply(ORDER, ev.IntegrationStarted(**ids))

    with pytest.raises(EventRefused, match="is integrating: it settles as integrated"):
        issued.apply(ORDER, ev.OrderCancelled(order_id=ORDER, run_id=RUN))

    assert (issued.order()["status"], issued.attempt(1)["status"]) == ("integrating", "integrating")
    issued.apply(ORDER, ev.Integrated(**ids, theater="default", merged_commit="m"))
    assert issued.order()["status"] == "integrated"


def test_a_cancelled_order_of_a_live_run_can_be_reissued(issued: Projection) -> None:
    issued.apply(ORDER, ev.OrderCancelled(order_id=ORDER, run_id=RUN, reason="blocked: why?"))

    issued.apply(ORDER, ev.OrderIssued(order_id=ORDER, run_id=RUN, attempt=2, reason="retry"))

    assert (issued.order()["status"], issued.order()["attempt"]) == ("issued", 2)
    assert issued.attempt(1)["status"] == "cancelled"  # a settled attempt is not superseded


def test_a_cancelled_order_of_a_cancelled_run_is_never_reissued(issued: Projection) -> None:
    issued.apply(RUN, ev.RunCancelRequested(run_id=RUN, requested_by="ops"))
    issued.apply(ORDER, ev.OrderCancelled(order_id=ORDER, run_id=RUN))

    with pytest.raises(EventRefused, match="cancelled and so is its run"):
        issued.apply(ORDER, ev.OrderIssued(order_id=ORDER, run_id=RUN, attempt=2))
    issued.apply(RUN, ev.RunCancelled(run_id=RUN))
    with pytest.raises(EventRefused, match="cancelled and so is its run"):
        issued.apply(ORDER, ev.OrderIssued(order_id=ORDER, run_id=RUN, attempt=2))
    assert issued.order()["attempt"] == 1
