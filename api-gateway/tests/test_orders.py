"""Reading orders and retrying them by hand, on a real ledger."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


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
    assert "is integrated; only failed, integration_failed or blocked" in response.json()["detail"]
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
