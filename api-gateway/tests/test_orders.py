"""Reading orders and retrying them by hand, on a real ledger."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.events import (
    OrderCancelled,
    OrderIssued,
    OrderPlanned,
    PlannedOrder,
    RunFailed,
    RunPlanned,
)
from ironclaw.contracts.ids import new_id


def start_run(
    gateway: TestClient, script: Any, theater: str, keys: list[str]
) -> tuple[str, list[str]]:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    return run_id, script.plan(run_id, theater, keys)


def test_get_order_shows_its_spec_and_attempts(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id, (order_id,) = start_run(gateway, script, theater, ["build"])
    script.integrate(run_id, order_id)

    response = gateway.get(f"/orders/{order_id}")

    assert response.status_code == 200
    view = response.json()
    assert view["run_id"] == run_id
    assert view["key"] == "build"
    assert view["status"] == "integrated"
    assert view["attempts"][0]["aar"]["summary"] == "done"
    assert view["integration"]["merged_commit"] == "c0ffee"


def test_an_unknown_order_is_a_404_problem(gateway: TestClient) -> None:
    response = gateway.get("/orders/ord_00000000000000000000000000")

    assert response.status_code == 404
    assert response.json()["detail"] == "order 'ord_00000000000000000000000000' does not exist"


def test_retry_reissues_a_failed_order_as_attempt_2(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id, (order_id,) = start_run(gateway, script, theater, ["build"])
    script.fail(run_id, order_id)

    response = gateway.post(f"/orders/{order_id}/retry")

    assert response.status_code == 202
    view = response.json()
    assert view["status"] == "issued"
    assert view["attempt"] == 2
    assert [a["status"] for a in view["attempts"]] == ["failed", "issued"]
    assert view["run_status"] == "executing"
    assert view["note"] == f"attempt 2 issued; run {run_id} is executing and goes on with it"
    reissued = script.events("OrderIssued")[-1]
    assert reissued.stream_id == order_id
    assert reissued.data["attempt"] == 2
    assert reissued.data["reason"] == "operator retry"


def test_retrying_an_integrated_order_is_409(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id, (order_id,) = start_run(gateway, script, theater, ["build"])
    script.integrate(run_id, order_id)
    count = len(script.events())

    response = gateway.post(f"/orders/{order_id}/retry")

    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == (
        f"order {order_id!r} is integrated: its work is on the mainline"
    )
    assert len(script.events()) == count


def test_a_repeated_retry_without_a_key_is_409_with_a_key_the_same_answer(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id, (order_id,) = start_run(gateway, script, theater, ["build"])
    script.fail(run_id, order_id)
    headers = {"Idempotency-Key": "retry-build-once"}

    first = gateway.post(f"/orders/{order_id}/retry", headers=headers)
    replayed = gateway.post(f"/orders/{order_id}/retry", headers=headers)
    unkeyed = gateway.post(f"/orders/{order_id}/retry")

    assert first.status_code == replayed.status_code == 202
    assert replayed.json() == first.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert unkeyed.status_code == 409
    assert [e.data["attempt"] for e in script.events("OrderIssued") if e.stream_id == order_id] == [
        1,
        2,
    ]


def test_an_order_of_a_cancelled_run_is_not_retried(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id, (failed, _) = start_run(gateway, script, theater, ["a", "b"])
    script.fail(run_id, failed)
    gateway.post(f"/runs/{run_id}/cancel")

    response = gateway.post(f"/orders/{failed}/retry")

    assert response.status_code == 409
    assert "which is cancelled" in response.json()["detail"]


def test_a_second_retry_while_the_new_attempt_is_under_way_is_409_and_issues_nothing(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id, (order_id,) = start_run(gateway, script, theater, ["build"])
    script.fail(run_id, order_id)
    assert gateway.post(f"/orders/{order_id}/retry").status_code == 202
    count = len(script.events())

    again = gateway.post(f"/orders/{order_id}/retry")

    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"order {order_id!r} is issued: attempt 2 is under way; only an order that settled "
        "failed, integration_failed, blocked or cancelled can be retried"
    )
    assert len(script.events()) == count

    script.fail(run_id, order_id, attempt=2)  # it settled again: a retry goes through again
    assert gateway.post(f"/orders/{order_id}/retry").json()["attempt"] == 3


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_concurrent_retries_issue_one_attempt(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id, (order_id,) = start_run(gateway, script, theater, ["build"])
    script.fail(run_id, order_id)
    start = threading.Barrier(4)
    statuses: list[int] = []

    def retry() -> None:
        start.wait()
        statuses.append(gateway.post(f"/orders/{order_id}/retry").status_code)

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [202, 409, 409, 409]
    issued = [e.data["attempt"] for e in script.events("OrderIssued") if e.stream_id == order_id]
    assert issued == [1, 2]


def test_retry_in_a_failed_run_says_the_run_keeps_its_outcome(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id, (order_id,) = start_run(gateway, script, theater, ["build"])
    script.fail(run_id, order_id)
    failed = RunFailed(run_id=run_id, reason="1 of 1 orders did not integrate")
    script.ledger.append(run_id, [failed], expected_version=None)

    response = gateway.post(f"/orders/{order_id}/retry")

    assert response.status_code == 202
    view = response.json()
    assert (view["status"], view["attempt"], view["run_status"]) == ("issued", 2, "failed")
    assert view["note"].startswith(
        f"attempt 2 issued; run {run_id} already ended failed and keeps that outcome"
    )
    assert script.run(run_id).status == "failed"


def plan_chain(script: Any, run_id: str, theater: str) -> tuple[str, str]:
    """co's part for a two-order chain: `first`, then `second` depending on it."""
    first = PlannedOrder(order_id=new_id("ord"), key="first", objective="build")
    second = PlannedOrder(
        order_id=new_id("ord"), key="second", objective="ship", depends_on=[first.order_id]
    )
    plan = RunPlanned(run_id=run_id, planner="test", orders=[first, second])
    script.ledger.append_batch(
        [
            LedgerClient.request(run_id, [plan], expected_version=None),
            LedgerClient.request(
                first.order_id,
                [
                    OrderPlanned(
                        order_id=first.order_id, run_id=run_id, theater=theater, spec=first
                    ),
                    OrderIssued(order_id=first.order_id, run_id=run_id, attempt=1),
                ],
                expected_version=0,
            ),
            LedgerClient.request(
                second.order_id,
                [
                    OrderPlanned(
                        order_id=second.order_id, run_id=run_id, theater=theater, spec=second
                    )
                ],
                expected_version=0,
            ),
        ]
    )
    return first.order_id, second.order_id


def test_a_cancelled_order_is_retried_once_its_dependencies_integrated(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    first, second = plan_chain(script, run_id, theater)
    script.fail(run_id, first)
    cascade = OrderCancelled(order_id=second, run_id=run_id, reason="dependency first failed")
    script.ledger.append(second, [cascade], expected_version=None)

    refused = gateway.post(f"/orders/{second}/retry")

    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"order {second!r} depends on ['first (failed)'], which did not integrate; "
        "retry the dependencies first"
    )

    assert gateway.post(f"/orders/{first}/retry").json()["attempt"] == 2
    script.integrate(run_id, first, theater, attempt=2)
    response = gateway.post(f"/orders/{second}/retry")

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["attempt"]) == ("issued", 1)
