"""The ledger's HTTP API through its FastAPI app, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import (
    LedgerClient,
    LedgerConflict,
    LedgerError,
    LedgerNotFound,
)
from ironclaw.contracts.events import NewEvent
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.errors import PROBLEM_JSON
from ironclaw.ledger.adapters.tables import events, outbox
from ironclaw.ledger.app import create_app
from ironclaw.ledger.config import Settings

TOKEN = "s3cret-internal-token"


@pytest.fixture
def client(database_url: str, engine: Engine) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, internal_token=None), engine=engine)
    with TestClient(app) as test_client:
        yield test_client


def event(payload: ev.EventPayload) -> dict[str, Any]:
    return NewEvent.of(payload).model_dump(mode="json")


def append_body(stream_id: str, expected: int | None, *payloads: ev.EventPayload) -> dict[str, Any]:
    return {
        "stream_id": stream_id,
        "expected_version": expected,
        "events": [event(p) for p in payloads],
    }


def received(run_id: str, theater: str = "alpha") -> ev.RunReceived:
    return ev.RunReceived(run_id=run_id, theater=theater, message="fix the build")


def planned(order_id: str, run_id: str, key: str) -> ev.OrderPlanned:
    spec = ev.PlannedOrder(order_id=order_id, key=key, objective=f"do {key}")
    return ev.OrderPlanned(order_id=order_id, run_id=run_id, theater="alpha", spec=spec)


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


# --- appending --------------------------------------------------------------------------------


def test_append_answers_201_and_a_resend_is_a_duplicate(client: TestClient, engine: Engine) -> None:
    run_id = new_id("run")
    body = append_body(run_id, 0, received(run_id))

    created = client.post("/events", json=body)
    assert created.status_code == 201, created.text
    result = created.json()
    assert result["stream_id"] == run_id
    assert result["version"] == 1
    assert result["duplicate"] is False
    (stored,) = result["events"]
    assert stored["id"] == body["events"][0]["id"]
    assert stored["version"] == 1
    assert stored["position"] >= 1

    again = client.post("/events", json=body)
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert again.json()["events"] == result["events"]

    stream = client.get(f"/streams/{run_id}").json()
    assert stream["version"] == 1
    assert [e["id"] for e in stream["events"]] == [stored["id"]]
    assert count(engine, events) == 1
    assert count(engine, outbox) == 1  # the re-send did not enqueue a second co.plan_run


def test_a_wrong_expected_version_is_a_409_problem_and_writes_nothing(
    client: TestClient, engine: Engine
) -> None:
    run_id = new_id("run")
    assert client.post("/events", json=append_body(run_id, 0, received(run_id))).status_code == 201

    late = append_body(run_id, 0, ev.RunPlanningStarted(run_id=run_id, planner="p"))
    body = assert_problem(client.post("/events", json=late), 409)
    assert body["stream_id"] == run_id
    assert body["expected_version"] == 0
    assert body["actual_version"] == 1
    assert client.get(f"/streams/{run_id}").json()["version"] == 1
    assert count(engine, events) == 1


def test_an_unknown_event_type_is_a_422_and_writes_nothing(
    client: TestClient, engine: Engine
) -> None:
    run_id = new_id("run")
    body = {
        "stream_id": run_id,
        "expected_version": 0,
        "events": [{"type": "RunTeleported", "data": {"run_id": run_id}}],
    }
    response = client.post("/events", json=body)
    assert response.status_code == 422, response.text
    assert "RunTeleported" in response.text
    assert count(engine, events) == 0
    assert client.get(f"/streams/{run_id}").status_code == 404


def test_an_event_on_the_wrong_stream_is_a_422_and_writes_nothing(
    client: TestClient, engine: Engine
) -> None:
    stream_id, run_id = new_id("run"), new_id("run")
    body = assert_problem(
        client.post("/events", json=append_body(stream_id, 0, received(run_id))), 422
    )
    assert run_id in body["detail"]
    assert stream_id in body["detail"]
    assert count(engine, events) == 0
    assert count(engine, outbox) == 0


def test_a_batch_is_atomic(client: TestClient, engine: Engine) -> None:
    existing, fresh = new_id("run"), new_id("run")
    assert (
        client.post("/events", json=append_body(existing, 0, received(existing))).status_code == 201
    )

    conflicting = {
        "appends": [
            append_body(fresh, 0, received(fresh)),
            append_body(existing, 5, ev.RunPlanningStarted(run_id=existing, planner="p")),
        ]
    }
    body = assert_problem(client.post("/events/batch", json=conflicting), 409)
    assert body["stream_id"] == existing
    assert body["actual_version"] == 1
    assert client.get(f"/runs/{fresh}").status_code == 404
    assert client.get(f"/streams/{fresh}").status_code == 404
    assert count(engine, events) == 1
    assert count(engine, outbox) == 1

    good = {
        "appends": [
            append_body(fresh, 0, received(fresh)),
            append_body(existing, 1, ev.RunPlanningStarted(run_id=existing, planner="p")),
        ]
    }
    response = client.post("/events/batch", json=good)
    assert response.status_code == 201, response.text
    results = response.json()["results"]
    assert [(r["stream_id"], r["version"]) for r in results] == [(fresh, 1), (existing, 2)]
    assert client.get(f"/runs/{existing}").json()["status"] == "planning"
    assert count(engine, events) == 3


# --- reading ----------------------------------------------------------------------------------


def test_the_read_routes_serve_the_projections_and_the_log(client: TestClient) -> None:
    run_id, issued_id, waiting_id = new_id("run"), new_id("ord"), new_id("ord")
    theater = ev.TheaterRegistered(name="alpha", source="/src/alpha", path="/theaters/alpha")
    appends = [
        append_body("theater-alpha", 0, theater),
        append_body(run_id, 0, received(run_id)),
        append_body(
            issued_id,
            0,
            planned(issued_id, run_id, "build"),
            ev.OrderIssued(order_id=issued_id, run_id=run_id, attempt=1),
        ),
        append_body(waiting_id, 0, planned(waiting_id, run_id, "test")),
    ]
    for body in appends:
        assert client.post("/events", json=body).status_code == 201

    run = client.get(f"/runs/{run_id}").json()
    assert run["status"] == "received"
    assert run["theater"] == "alpha"
    assert sorted((o["key"], o["status"]) for o in run["orders"]) == [
        ("build", "issued"),
        ("test", "planned"),
    ]

    order = client.get(f"/orders/{issued_id}").json()
    assert order["status"] == "issued"
    assert order["run_id"] == run_id
    assert order["objective"] == "do build"
    assert order["attempt"] == 1
    assert [(a["attempt"], a["status"]) for a in order["attempts"]] == [(1, "issued")]
    assert order["version"] == 2

    stream = client.get(f"/streams/{issued_id}").json()
    assert [e["type"] for e in stream["events"]] == ["OrderPlanned", "OrderIssued"]
    later = client.get(f"/streams/{issued_id}", params={"after_version": 1}).json()
    assert later["version"] == 2
    assert [(e["version"], e["type"]) for e in later["events"]] == [(2, "OrderIssued")]

    feed = client.get("/events", params={"after": 0, "limit": 3}).json()
    assert [e["type"] for e in feed["events"]] == [
        "TheaterRegistered",
        "RunReceived",
        "OrderPlanned",
    ]
    assert feed["last_position"] == feed["events"][-1]["position"]
    rest = client.get("/events", params={"after": feed["last_position"], "limit": 100}).json()
    assert [e["type"] for e in rest["events"]] == ["OrderIssued", "OrderPlanned"]
    end = client.get("/events", params={"after": rest["last_position"]}).json()
    assert end == {"events": [], "last_position": rest["last_position"]}

    assert [t["name"] for t in client.get("/theaters").json()] == ["alpha"]
    assert client.get("/theaters/alpha").json() == {
        "name": "alpha",
        "source": "/src/alpha",
        "mainline": "main",
        "head": None,
        "path": "/theaters/alpha",
        "dispatch_paused": None,
    }

    issued = client.get("/orders", params={"status": "issued"}).json()
    assert [o["order_id"] for o in issued] == [issued_id]
    waiting = client.get("/orders", params={"status": "planned"}).json()
    assert [o["order_id"] for o in waiting] == [waiting_id]
    both = client.get("/orders", params=[("status", "planned"), ("status", "issued")]).json()
    assert {o["order_id"] for o in both} == {issued_id, waiting_id}
    assert client.get("/orders", params={"status": "running"}).json() == []


@pytest.mark.parametrize(
    "path", ["/runs/run_nope", "/orders/ord_nope", "/streams/run_nope", "/theaters/nope"]
)
def test_unknown_ids_are_404_problems(client: TestClient, path: str) -> None:
    assert "nope" in assert_problem(client.get(path), 404)["detail"]


def test_ready_checks_the_database(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}


# --- the internal token -----------------------------------------------------------------------


def test_every_route_but_health_needs_the_internal_token(database_url: str, engine: Engine) -> None:
    app = create_app(Settings(database_url=database_url, internal_token=TOKEN), engine=engine)
    routes = [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path not in {"/health", "/ready"}
        for method in operations
    ]
    assert len(routes) >= 10  # every route of api.py, found through the app's own schema

    run_id = new_id("run")
    valid_append = append_body(run_id, 0, received(run_id))
    bodies = {
        "/events": valid_append,
        "/events/batch": {"appends": [valid_append]},
    }
    with TestClient(app) as client:
        for method, template in routes:
            path = template.replace("{stream_id}", run_id).replace("{run_id}", run_id)
            path = path.replace("{order_id}", "ord_x").replace("{name}", "alpha")
            json_body = bodies.get(template) if method == "POST" else None
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                refused = client.request(method, path, json=json_body, headers=headers)
                assert_problem(refused, 401)
            allowed = client.request(
                method, path, json=json_body, headers={"Authorization": f"Bearer {TOKEN}"}
            )
            assert allowed.status_code != 401, (method, path)
            assert allowed.status_code < 500, (method, path, allowed.text)

        assert client.get("/health").json() == {"status": "ok", "service": "ledger"}
        assert client.get("/ready").status_code == 200
    assert count(engine, events) == 1  # the authorised POST /events wrote; no refused one did


# --- the contracts' client --------------------------------------------------------------------


def test_the_ledger_client_speaks_the_api(database_url: str, engine: Engine) -> None:
    app = create_app(Settings(database_url=database_url, internal_token=TOKEN), engine=engine)
    with TestClient(app) as http:
        ledger = LedgerClient(str(http.base_url), token=TOKEN, http=http, retry_for_s=0)
        run_id, order_id = new_id("run"), new_id("ord")

        result = ledger.append(run_id, [received(run_id)], expected_version=0)
        assert (result.stream_id, result.version, result.duplicate) == (run_id, 1, False)
        ledger.append(
            order_id,
            [
                planned(order_id, run_id, "build"),
                ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=1),
            ],
            expected_version=0,
        )
        theater = ev.TheaterRegistered(name="alpha", source="/src", path="/t/alpha")
        ledger.append("theater-alpha", [theater], expected_version=0)

        with pytest.raises(LedgerConflict) as conflict:
            ledger.append(run_id, [received(run_id)], expected_version=0)
        assert conflict.value.conflict.stream_id == run_id
        assert conflict.value.conflict.actual_version == 1

        resent = NewEvent.of(ev.RunPlanningStarted(run_id=run_id, planner="p"))
        first = ledger.append(run_id, [resent], expected_version=1)
        second = ledger.append(run_id, [resent], expected_version=1)
        assert second.duplicate is True
        assert second.events == first.events

        assert ledger.get_run(run_id).status == "planning"
        assert ledger.get_order(order_id).status == "issued"
        assert [e.type for e in ledger.read_stream(order_id, after_version=1).events] == [
            "OrderIssued"
        ]
        assert len(ledger.feed(after=0, limit=100).events) == 5
        assert ledger.get_theater("alpha").path == "/t/alpha"
        assert [t.name for t in ledger.list_theaters()] == ["alpha"]
        ledger.health()
        with pytest.raises(LedgerNotFound):
            ledger.get_run("run_nope")
        with pytest.raises(LedgerError) as refused:
            ledger.append(new_id("run"), [received(run_id)], expected_version=0)
        assert refused.value.status == 422

    with TestClient(app) as bare:
        anonymous = LedgerClient(str(bare.base_url), http=bare, retry_for_s=0)
        with pytest.raises(LedgerError) as unauthorised:
            anonymous.get_run(run_id)
        assert unauthorised.value.status == 401


def test_orders_page_by_id_and_the_client_walks_every_page(client: TestClient) -> None:
    run_id = new_id("run")
    assert client.post("/events", json=append_body(run_id, 0, received(run_id))).status_code == 201
    order_ids = sorted(new_id("ord") for _ in range(7))
    for index, order_id in enumerate(order_ids):
        body = append_body(order_id, 0, planned(order_id, run_id, f"k{index}"))
        assert client.post("/events", json=body).status_code == 201

    first = client.get("/orders", params={"status": "planned", "limit": 3}).json()
    assert [o["order_id"] for o in first] == order_ids[:3]
    second = client.get(
        "/orders", params={"status": "planned", "limit": 3, "after": first[-1]["order_id"]}
    ).json()
    assert [o["order_id"] for o in second] == order_ids[3:6]

    ledger = LedgerClient(str(client.base_url), http=client, retry_for_s=0)
    walked = [o.order_id for o in ledger.iter_orders(statuses=["planned"], page_size=2)]
    assert walked == order_ids


def test_runs_list_by_status_a_page_at_a_time(client: TestClient) -> None:
    run_ids = sorted(new_id("run") for _ in range(5))
    for run_id in run_ids:
        assert (
            client.post("/events", json=append_body(run_id, 0, received(run_id))).status_code == 201
        )
    cancelled = ev.RunCancelled(run_id=run_ids[0], reason="test")
    assert client.post("/events", json=append_body(run_ids[0], 1, cancelled)).status_code == 201

    ledger = LedgerClient(str(client.base_url), http=client, retry_for_s=0)
    waiting = [run.run_id for run in ledger.iter_runs(statuses=["received"], page_size=2)]
    assert waiting == run_ids[1:]
    assert [r.run_id for r in ledger.iter_runs(statuses=["cancelled"])] == run_ids[:1]
    page = client.get("/runs", params={"status": "received", "after": run_ids[3]}).json()
    assert [r["run_id"] for r in page] == run_ids[4:]


def test_a_runs_reply_outcome_is_projected_and_failed_replies_are_listed(
    client: TestClient,
) -> None:
    failing, delivered = sorted(new_id("run") for _ in range(2))
    ledger = LedgerClient(str(client.base_url), http=client, retry_for_s=0)
    for run_id in (failing, delivered):
        ledger.append(run_id, [received(run_id)], expected_version=0)
        ledger.append(run_id, [ev.RunFailed(run_id=run_id, reason="x")], expected_version=1)
    for _ in range(2):
        ledger.append(
            failing,
            [ev.ReplyFailed(run_id=failing, channel="github", reason="502", attempts=3)],
            expected_version=None,
        )
    ledger.append(
        delivered,
        [ev.ReplyFailed(run_id=delivered, channel="slack", reason="timeout", attempts=3)],
        expected_version=None,
    )
    ledger.append(
        delivered, [ev.ReplyDelivered(run_id=delivered, channel="slack")], expected_version=None
    )

    view = ledger.get_run(failing)
    assert (view.reply_status, view.reply_failures) == ("failed", 2)
    assert ledger.get_run(delivered).reply_status == "delivered"
    assert [run.run_id for run in ledger.iter_runs(reply_status="failed")] == [failing]
    assert [run.run_id for run in ledger.iter_runs(reply_status="delivered")] == [delivered]
