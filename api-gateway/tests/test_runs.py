"""Submitting, reading, waiting for and cancelling runs through the public API, on a real ledger."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ironclaw.contracts.clients.ledger import LedgerError
from ironclaw.contracts.events import (
    IntegrationStarted,
    OrderCancelled,
    OrderCompleted,
    RunCancelRequested,
)
from ironclaw.contracts.models import AfterActionReport, OrderStatus


def test_chat_starts_a_run_with_the_message(gateway: TestClient, script: Any, theater: str) -> None:
    response = gateway.post("/chat", json={"message": "add a README", "theater": theater})

    assert response.status_code == 202
    body = response.json()
    run_id = body["run_id"]
    assert run_id.startswith("run_")
    assert body["status"] == "received"
    assert body["links"] == {"self": f"/runs/{run_id}", "events": f"/runs/{run_id}/events"}
    assert response.headers["Location"] == f"/runs/{run_id}"
    (received,) = script.events("RunReceived")
    assert received.stream_id == run_id
    assert received.version == 1
    assert received.data["message"] == "add a README"
    assert received.data["theater"] == theater
    assert received.data["source"]["kind"] == "chat"
    assert received.data["requested_orders"] == []
    assert received.metadata.correlation_id == run_id


def test_chat_passes_conversation_profile_and_playbook(
    gateway: TestClient, script: Any, theater: str
) -> None:
    body = {
        "message": "fix the bug",
        "theater": theater,
        "conversation_id": "conv-1",
        "profile": "fast",
        "playbook": "bugfix",
    }

    run_id = gateway.post("/chat", json=body).json()["run_id"]

    (received,) = script.events("RunReceived")
    assert received.data["conversation_id"] == "conv-1"
    assert received.data["profile"] == "fast"
    assert received.data["playbook"] == "bugfix"
    view = gateway.get(f"/runs/{run_id}").json()
    assert view["status"] == "received"
    assert view["message"] == "fix the bug"
    assert view["conversation_id"] == "conv-1"


def test_runs_stores_explicit_orders_as_requested(
    gateway: TestClient, script: Any, theater: str
) -> None:
    orders = [
        {"key": "a", "objective": "make a", "engine": "command", "commands": ["touch a"]},
        {"key": "b", "objective": "make b", "engine": "command", "commands": ["touch b"]},
        {"key": "c", "objective": "join", "depends_on": ["a", "b"], "success_criteria": ["ok"]},
    ]

    response = gateway.post(
        "/runs", json={"message": "three", "theater": theater, "orders": orders}
    )

    assert response.status_code == 202
    (received,) = script.events("RunReceived")
    assert received.data["source"]["kind"] == "api"
    stored = received.data["requested_orders"]
    assert [order["key"] for order in stored] == ["a", "b", "c"]
    assert stored[0]["commands"] == ["touch a"]
    assert stored[2]["depends_on"] == ["a", "b"]
    assert stored[2]["success_criteria"] == ["ok"]


BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("/chat", {}, "message"),
    ("/chat", {"message": ""}, "message"),
    ("/chat", {"message": "x" * 20_001}, "message"),
    ("/chat", {"message": "hi", "wait_s": 121}, "wait_s"),
    ("/chat", {"message": "hi", "theater": "../etc"}, "theater"),
    ("/chat", {"message": "hi", "unknown": 1}, "unknown"),
    ("/runs", {"message": "hi", "orders": []}, "orders"),
    ("/runs", {"message": "hi", "orders": [{"key": "a", "objective": "x"}] * 2}, "unique"),
    (
        "/runs",
        {"message": "hi", "orders": [{"key": "a", "objective": "x", "depends_on": ["z"]}]},
        "unknown keys: z",
    ),
    (
        "/runs",
        {"message": "hi", "orders": [{"key": "a", "objective": "x", "depends_on": ["a"]}]},
        "depends on itself",
    ),
    (
        "/runs",
        {
            "message": "hi",
            "orders": [
                {"key": "a", "objective": "x", "depends_on": ["b"]},
                {"key": "b", "objective": "y", "depends_on": ["a"]},
            ],
        },
        "cycle: a -> b -> a",
    ),
    ("/runs", {"message": "hi", "orders": [{"key": "Bad Key", "objective": "x"}]}, "key"),
    ("/runs", {"message": "hi", "orders": [{"key": "a", "objective": "x", "nope": 1}]}, "nope"),
]


def test_a_bad_body_is_422_and_appends_nothing(
    gateway: TestClient, script: Any, theater: str
) -> None:
    before = script.events()

    for path, body, complaint in BAD_BODIES:
        response = gateway.post(path, json={"theater": theater, **body})

        assert response.status_code == 422, (path, body)
        assert complaint in response.text, (path, body, response.text)
    assert script.events() == before


def test_malformed_json_is_422(gateway: TestClient, script: Any) -> None:
    response = gateway.post(
        "/chat", content=b'{"message": ', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert script.events() == []


def test_an_unknown_theater_is_a_404_problem(gateway: TestClient, script: Any) -> None:
    response = gateway.post("/chat", json={"message": "hi", "theater": "nowhere"})

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "theater 'nowhere' is not registered" in response.json()["detail"]
    assert script.events() == []


def test_the_default_theater_registered_in_the_ledger_needs_no_vault(
    gateway: TestClient, script: Any
) -> None:
    script.register_theater("default")

    response = gateway.post("/chat", json={"message": "hi"})

    assert response.status_code == 202
    assert script.events("RunReceived")[0].data["theater"] == "default"


def test_a_missing_default_theater_with_the_vault_down_is_503(
    gateway: TestClient, script: Any
) -> None:
    response = gateway.post("/chat", json={"message": "hi"})

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "the vault at http://127.0.0.1:" in response.json()["detail"]
    assert "unreachable" in response.json()["detail"]
    assert script.events("RunReceived") == []


def test_the_ledger_down_is_a_503_naming_it(gateway_for: Any, down_url: str) -> None:
    gateway = gateway_for(ledger_url=down_url)

    response = gateway.post("/chat", json={"message": "hi", "theater": "demo"})

    assert response.status_code == 503
    assert response.json()["detail"].startswith(f"the ledger at {down_url} is unreachable: ")
    assert response.headers["X-Request-Id"].startswith("req_")


def test_wait_s_answers_200_with_the_run_when_it_settles_in_time(
    gateway: TestClient, script: Any, theater: str
) -> None:
    def settle_when_received() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            received = script.events("RunReceived")
            if received:
                time.sleep(0.2)
                script.complete(received[0].stream_id, "here it is")
                return
            time.sleep(0.02)

    settler = threading.Thread(target=settle_when_received)
    settler.start()
    started = time.monotonic()
    response = gateway.post("/chat", json={"message": "hi", "theater": theater, "wait_s": 10})
    settler.join()

    assert response.status_code == 200
    assert time.monotonic() - started < 5
    view = response.json()
    assert view["status"] == "completed"
    assert view["response"] == "here it is"
    assert response.headers["Location"] == f"/runs/{view['run_id']}"


def test_wait_s_answers_202_when_the_run_does_not_settle_in_time(
    gateway: TestClient, theater: str
) -> None:
    started = time.monotonic()
    response = gateway.post("/chat", json={"message": "hi", "theater": theater, "wait_s": 0.5})

    assert response.status_code == 202
    assert 0.5 <= time.monotonic() - started < 3
    assert response.json()["status"] == "received"


def test_get_run_shows_its_orders(gateway: TestClient, script: Any, theater: str) -> None:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    order_ids = script.plan(run_id, theater, ["one", "two"])

    view = gateway.get(f"/runs/{run_id}").json()

    assert view["status"] == "executing"
    assert [order["order_id"] for order in view["orders"]] == order_ids
    assert {order["status"] for order in view["orders"]} == {"issued"}


def test_an_unknown_run_is_a_404_problem(gateway: TestClient) -> None:
    response = gateway.get("/runs/run_00000000000000000000000000")

    assert response.status_code == 404
    assert response.json()["detail"] == "run 'run_00000000000000000000000000' does not exist"


def test_cancel_settles_every_order_and_the_run(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    done, failed, running = script.plan(run_id, theater, ["done", "failed", "running"])
    script.integrate(run_id, done)
    script.fail(run_id, failed)

    response = gateway.post(f"/runs/{run_id}/cancel")

    assert response.status_code == 202
    view = response.json()
    assert view["status"] == "cancelled"
    statuses = {order["order_id"]: order["status"] for order in view["orders"]}
    assert statuses == {
        done: OrderStatus.INTEGRATED,
        failed: OrderStatus.FAILED,
        running: OrderStatus.CANCELLED,
    }
    types = [event.type for event in script.events() if event.stream_id in (run_id, running)]
    assert types[-3:] == ["RunCancelRequested", "OrderCancelled", "RunCancelled"]
    (requested,) = script.events("RunCancelRequested")
    assert requested.data["requested_by"] == "ip:testclient"


def test_cancel_is_idempotent(gateway: TestClient, script: Any, theater: str) -> None:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    script.plan(run_id, theater, ["a"])
    gateway.post(f"/runs/{run_id}/cancel")
    count = len(script.events())

    again = gateway.post(f"/runs/{run_id}/cancel")

    assert again.status_code == 202
    assert again.json()["status"] == "cancelled"
    assert len(script.events()) == count


def test_cancelling_a_completed_run_changes_nothing(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    script.complete(run_id)
    count = len(script.events())

    response = gateway.post(f"/runs/{run_id}/cancel")

    assert response.status_code == 202
    assert response.json()["status"] == "completed"
    assert len(script.events()) == count


def test_cancelling_an_unknown_run_is_404(gateway: TestClient) -> None:
    assert gateway.post("/runs/run_00000000000000000000000000/cancel").status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_cancel_racing_the_planner_leaves_no_order_unsettled(
    gateway: TestClient, script: Any, theater: str
) -> None:
    for _ in range(3):
        run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
        start = threading.Barrier(2)

        def planner(run_id: str, start: threading.Barrier) -> None:
            start.wait()
            with contextlib.suppress(LedgerError):  # refused once the run is cancelled
                script.plan(run_id, theater, ["a", "b", "c"])

        racer = threading.Thread(target=planner, args=(run_id, start))
        racer.start()
        start.wait()
        response = gateway.post(f"/runs/{run_id}/cancel")
        racer.join()

        assert response.status_code == 202
        view = script.run(run_id)
        assert view.status == "cancelled"
        assert {order.status for order in view.orders} <= {OrderStatus.CANCELLED}


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_a_json_body_sent_as_curl_d_sends_it_is_read_as_json(
    gateway: TestClient, script: Any, theater: str, content_type: str | None
) -> None:
    body = json.dumps({"message": "sent with curl -d", "theater": theater}).encode()
    headers = {"content-type": content_type} if content_type else {}
    response = gateway.post("/chat", content=body, headers=headers)
    assert response.status_code == 202, response.text
    (received,) = script.events("RunReceived")
    assert received.data["message"] == "sent with curl -d"


def test_a_form_body_that_is_no_json_is_a_clear_422(gateway: TestClient) -> None:
    response = gateway.post(
        "/chat",
        content=b"message=hi",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert "JSON" in response.text


def start_integrating(script: Any, run_id: str, order_id: str) -> None:
    """integration's part: the order's attempt 1 completed and its promotion started."""
    ids = {"order_id": order_id, "run_id": run_id, "attempt": 1}
    aar = AfterActionReport(outcome="completed", summary="done", commits=["c0ffee"])
    completed = OrderCompleted(**ids, branch="b", commits=["c0ffee"], aar=aar)
    script.ledger.append(order_id, [completed, IntegrationStarted(**ids)], expected_version=None)


def test_the_ledger_refuses_to_cancel_an_integrating_order(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    (order_id,) = script.plan(run_id, theater, ["landing"])
    start_integrating(script, run_id, order_id)
    before = script.ledger.read_stream(order_id).events

    with pytest.raises(LedgerError) as refused:
        script.ledger.append(
            order_id, [OrderCancelled(order_id=order_id, run_id=run_id)], expected_version=None
        )

    assert refused.value.status == 422
    assert "is integrating" in refused.value.detail
    assert script.ledger.read_stream(order_id).events == before


def test_cancel_leaves_an_integrating_order_to_land_and_the_run_to_co(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    landing, waiting = script.plan(run_id, theater, ["landing", "waiting"])
    start_integrating(script, run_id, landing)

    response = gateway.post(f"/runs/{run_id}/cancel")

    assert response.status_code == 202
    view = response.json()
    assert view["status"] == "executing"  # settles `cancelled` when `landing` has landed
    assert view["cancel_requested"] is True
    statuses = {order["order_id"]: order["status"] for order in view["orders"]}
    assert statuses == {landing: OrderStatus.INTEGRATING, waiting: OrderStatus.CANCELLED}
    assert script.events("RunCancelled") == []
    assert [e.type for e in script.events() if e.stream_id == landing][-1] == "IntegrationStarted"
    count = len(script.events())

    again = gateway.post(f"/runs/{run_id}/cancel")

    assert again.status_code == 202
    assert again.json()["cancel_requested"] is True
    assert len(script.events()) == count  # no second RunCancelRequested, nothing else


def test_a_cancel_the_gateway_could_not_finish_is_finished_by_the_next(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    (order_id,) = script.plan(run_id, theater, ["a"])
    # A gateway that died right after recording the request left the order running.
    script.ledger.append(run_id, [RunCancelRequested(run_id=run_id)], expected_version=None)

    response = gateway.post(f"/runs/{run_id}/cancel")

    assert response.json()["status"] == "cancelled"
    assert script.ledger.get_order(order_id).status == OrderStatus.CANCELLED
    assert len(script.events("RunCancelRequested")) == 1
