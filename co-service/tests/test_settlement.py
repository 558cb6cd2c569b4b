"""`co.order_settled` on a real ledger: dispatch, cancellation, promotion order, fan-in."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ironclaw.co.domain.planners import RunPlanner
from ironclaw.co.domain.planning import plan_run
from ironclaw.co.domain.settlement import Settlement, settle_order
from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView
from ironclaw.contracts.models import OrderStatus, RequestedOrder, RunStatus

if TYPE_CHECKING:  # the `fleet` fixture's class, from this folder's conftest.py
    from conftest import FleetDriver

both_backends = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


def planned_run(
    fleet: FleetDriver, playbooks: Path, *orders: tuple[str, ...]
) -> dict[str, OrderView]:
    """A planned Run of command Orders, each `(key, *depends_on)`; its Orders by key."""
    requested = [
        RequestedOrder(key=key, objective=f"do {key}", depends_on=list(deps), commands=["true"])
        for key, *deps in orders
    ]
    task = fleet.receive("a run", orders=requested)
    assert plan_run(task, ledger=fleet.ledger, planner=RunPlanner(playbooks_dir=playbooks)) == (
        "planned"
    )
    return fleet.orders(task.run_id)


def settle(fleet: FleetDriver, order: OrderView) -> Settlement:
    return settle_order(fleet.settled(order), ledger=fleet.ledger)


def fresh(fleet: FleetDriver, order: OrderView) -> OrderView:
    return fleet.ledger.get_order(order.order_id)


def test_dependents_are_issued_only_when_every_dependency_integrated(
    fleet: FleetDriver, shipped_playbooks: Path
) -> None:
    orders = planned_run(fleet, shipped_playbooks, ("a",), ("b",), ("c", "a", "b"))
    a, b, c = orders["a"], orders["b"], orders["c"]
    fleet.complete(a)
    fleet.integrate(fresh(fleet, a))

    assert settle(fleet, a).issued == []
    assert fleet.status(c) == OrderStatus.PLANNED

    fleet.complete(b)
    fleet.integrate(fresh(fleet, b))
    done = settle(fleet, b)

    assert done.issued == [c.order_id]
    assert fleet.types(c.order_id) == ["OrderPlanned", "OrderIssued"]
    assert fleet.events(c.order_id)[-1].data["attempt"] == 1
    assert settle(fleet, b) == Settlement()  # a duplicate delivery changes nothing
    assert fleet.types(c.order_id) == ["OrderPlanned", "OrderIssued"]


def test_a_failed_dependency_cancels_its_dependents_and_the_run_fails_at_the_end(
    fleet: FleetDriver, shipped_playbooks: Path
) -> None:
    orders = planned_run(fleet, shipped_playbooks, ("a",), ("b", "a"), ("c", "b"), ("d",))
    a, b, c, d = (orders[k] for k in "abcd")
    fleet.fail(a, reason="the build broke")

    done = settle(fleet, a)

    assert done.cancelled == [b.order_id, c.order_id]
    assert done.run_event is None  # d is still running
    assert fleet.events(b.order_id)[-1].data["reason"] == "dependency a failed"
    assert fleet.events(c.order_id)[-1].data["reason"] == "dependency b cancelled"

    fleet.complete(d, summary="Added the d feature.")
    fleet.integrate(fresh(fleet, d), commit="d" * 40)
    assert settle(fleet, d).run_event == "RunFailed"

    run = fleet.ledger.get_run(a.run_id)
    assert run.status == RunStatus.FAILED
    assert run.reason == "3 of 4 orders did not integrate: a failed, b cancelled, c cancelled"
    assert run.response is not None
    assert "1 of 4 orders integrated into default's mainline." in run.response
    assert "- a: failed (the build broke)" in run.response
    assert f"- d: integrated as {'d' * 12}\n  Added the d feature." in run.response


def test_integration_ready_goes_once_to_the_next_completed_order_in_plan_order(
    fleet: FleetDriver, shipped_playbooks: Path
) -> None:
    orders = planned_run(fleet, shipped_playbooks, ("a",), ("b",), ("c",))
    a, b, c = orders["a"], orders["b"], orders["c"]
    fleet.complete(b)  # its own integration is deferred: a comes first in the plan
    fleet.fail(c)

    assert settle(fleet, c).integration_ready is None  # a, first in the plan, still runs

    fleet.complete(a)
    fleet.integrate(fresh(fleet, a))
    deliveries = [fleet.settled(a)] * 3
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda t: settle_order(t, ledger=fleet.ledger), deliveries))

    assert [r.integration_ready for r in results].count(b.order_id) == 1
    ready = [e for e in fleet.events(b.order_id) if e.type == "IntegrationReady"]
    assert len(ready) == 1
    assert ready[0].data == {"order_id": b.order_id, "run_id": b.run_id, "attempt": 1}
    assert settle(fleet, a).integration_ready is None
    assert fleet.ledger.get_run(a.run_id).status == RunStatus.EXECUTING


@both_backends
def test_the_run_completes_exactly_once_with_a_response_synthesised_from_the_aars(
    fleet: FleetDriver, shipped_playbooks: Path
) -> None:
    orders = planned_run(fleet, shipped_playbooks, ("schema",), ("api", "schema"))
    schema, api = orders["schema"], orders["api"]
    fleet.complete(schema, summary="Added the users table.", tokens=1000)
    fleet.integrate(fresh(fleet, schema), commit="1" * 40)
    assert settle(fleet, schema).issued == [api.order_id]
    fleet.complete(fresh(fleet, api), summary="Added GET /users.", tokens=500)
    fleet.integrate(fresh(fleet, api), commit="2" * 40)

    deliveries = [fleet.settled(api)] * 4
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda t: settle_order(t, ledger=fleet.ledger), deliveries))

    assert [r.run_event for r in results].count("RunCompleted") == 1
    assert fleet.types(api.run_id).count("RunCompleted") == 1
    run = fleet.ledger.get_run(api.run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.response == (
        "2 of 2 orders integrated into default's mainline.\n"
        f"- schema: integrated as {'1' * 12}\n  Added the users table.\n"
        f"- api: integrated as {'2' * 12}\n  Added GET /users.\n"
        "Tokens: 1500 in, 150 out; cost $0.0200."
    )
    assert settle(fleet, api) == Settlement()


def test_a_blocked_order_is_cancelled_with_its_reason_and_the_run_fails(
    fleet: FleetDriver, shipped_playbooks: Path
) -> None:
    orders = planned_run(fleet, shipped_playbooks, ("a",), ("b", "a"))
    a, b = orders["a"], orders["b"]
    fleet.block(a, reason="which database?")

    done = settle(fleet, a)

    assert done.cancelled == [a.order_id, b.order_id]
    assert done.run_event == "RunFailed"
    assert fleet.events(a.order_id)[-1].data["reason"] == "blocked: which database?"
    run = fleet.ledger.get_run(a.run_id)
    assert run.reason == "2 of 2 orders did not integrate: a cancelled, b cancelled"
    assert "- a: cancelled (blocked: which database?)" in (run.response or "")


def test_an_integration_failure_fails_the_run_with_the_gate_reason(
    fleet: FleetDriver, shipped_playbooks: Path
) -> None:
    (only,) = planned_run(fleet, shipped_playbooks, ("only",)).values()
    fleet.complete(only)
    fleet.integration_fails(fresh(fleet, only), reason="gate pytest failed")

    assert settle(fleet, only).run_event == "RunFailed"

    run = fleet.ledger.get_run(only.run_id)
    assert run.reason == "1 of 1 orders did not integrate: only integration_failed"
    assert "- only: integration_failed (gate pytest failed)" in (run.response or "")


def test_a_cancel_request_cancels_what_waits_and_ends_the_run_cancelled(
    fleet: FleetDriver, shipped_playbooks: Path
) -> None:
    orders = planned_run(fleet, shipped_playbooks, ("a",), ("b",), ("c", "a"))
    a, b, c = orders["a"], orders["b"], orders["c"]
    cancel = ev.RunCancelRequested(run_id=a.run_id, requested_by="alice")
    fleet.ledger.append(a.run_id, [cancel], expected_version=None)
    fleet.complete(a)
    fleet.integrate(fresh(fleet, a))

    done = settle(fleet, a)

    assert done.issued == []
    assert done.cancelled == [b.order_id, c.order_id]
    assert done.run_event == "RunCancelled"
    run = fleet.ledger.get_run(a.run_id)
    assert (run.status, run.reason) == (RunStatus.CANCELLED, "cancelled by alice")


@pytest.mark.parametrize("lands_as", ["Integrated", "IntegrationFailed"])
def test_after_a_cancel_request_an_integrating_order_lands_before_the_run_ends_cancelled(
    fleet: FleetDriver, shipped_playbooks: Path, lands_as: str
) -> None:
    orders = planned_run(fleet, shipped_playbooks, ("a",), ("b",), ("c", "a"), ("d",))
    a, b, c, d = (orders[k] for k in "abcd")
    fleet.complete(a)
    ids = {"order_id": a.order_id, "run_id": a.run_id, "attempt": 1}
    fleet.ledger.append(a.order_id, [ev.IntegrationStarted(**ids)], expected_version=None)
    fleet.ledger.append(
        b.order_id,
        [
            ev.OrderClaimed(
                order_id=b.order_id, run_id=b.run_id, attempt=1, worker_id="w", lease_s=60
            ),
            ev.AttemptStarted(
                order_id=b.order_id,
                run_id=b.run_id,
                attempt=1,
                branch="br",
                worktree="/tmp/w",
                base_commit="0" * 40,
                engine="command",
            ),
        ],
        expected_version=None,
    )
    cancel = ev.RunCancelRequested(run_id=a.run_id, requested_by="alice")
    fleet.ledger.append(a.run_id, [cancel], expected_version=None)
    fleet.fail(d)

    done = settle(fleet, d)

    assert done.cancelled == [b.order_id, c.order_id]  # running b too; never integrating a
    assert done.integration_ready is None
    assert done.run_event is None
    assert fleet.status(a) == OrderStatus.INTEGRATING
    assert fleet.ledger.get_run(a.run_id).status == RunStatus.EXECUTING

    landed: ev.EventPayload = (
        ev.Integrated(**ids, theater="default", merged_commit="f" * 40)
        if lands_as == "Integrated"
        else ev.IntegrationFailed(**ids, reason="gate tests failed")
    )
    fleet.ledger.append(a.order_id, [landed], expected_version=None)
    done = settle(fleet, a)

    assert done.run_event == "RunCancelled"
    run = fleet.ledger.get_run(a.run_id)
    assert (run.status, run.reason) == (RunStatus.CANCELLED, "cancelled by alice")
    assert settle(fleet, a) == Settlement()  # a duplicate delivery changes nothing
