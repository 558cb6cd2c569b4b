"""A run's events: JSON in ledger order, and a live SSE stream served on a real port."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from openai_server import serve

from ironclaw.contracts.events import SignalEmitted
from ironclaw.gateway.app import create_app
from ironclaw.gateway.config import Settings

BOTH_DATABASES = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


@dataclass
class Message:
    event: str
    id: int
    data: dict[str, Any]


def sse_messages(lines: Iterator[str]) -> Iterator[Message]:
    """Server-sent events from a line iterator (comments, such as pings, skipped)."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in fields:
                yield Message(fields["event"], int(fields["id"]), json.loads(fields["data"]))
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


@pytest.fixture
def served(settings_for: Callable[..., Settings]) -> Iterator[str]:
    """The gateway on a loopback port, for streaming with a real HTTP client."""
    with serve(create_app(settings_for())) as url:
        yield url


def test_events_are_the_runs_and_its_orders_in_ledger_order(
    gateway: TestClient, script: Any, theater: str
) -> None:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    first, second = script.plan(run_id, theater, ["first", "second"])
    script.fail(run_id, second)
    script.integrate(run_id, first)
    script.complete(run_id)

    response = gateway.get(f"/runs/{run_id}/events")

    assert response.status_code == 200
    events = response.json()
    ours = [e for e in script.events() if e.stream_id in (run_id, first, second)]
    assert [e["id"] for e in events] == [e.id for e in ours]
    positions = [e["position"] for e in events]
    assert positions == sorted(positions)
    assert [e["type"] for e in events if e["stream_id"] == second] == [
        "OrderPlanned",
        "OrderIssued",
        "OrderFailed",
    ]
    assert events[0]["type"] == "RunReceived"
    assert events[-1]["type"] == "RunCompleted"


def test_events_after_a_position(gateway: TestClient, script: Any, theater: str) -> None:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    script.plan(run_id, theater, ["a"])
    everything = gateway.get(f"/runs/{run_id}/events").json()

    later = gateway.get(f"/runs/{run_id}/events", params={"after": everything[0]["position"]})

    assert later.json() == everything[1:]


def test_events_of_an_unknown_run_are_404(gateway: TestClient) -> None:
    for accept in ("application/json", "text/event-stream"):
        response = gateway.get(
            "/runs/run_00000000000000000000000000/events", headers={"Accept": accept}
        )

        assert response.status_code == 404
        assert response.headers["Content-Type"] == "application/problem+json"


@BOTH_DATABASES
def test_sse_streams_events_live_and_ends_when_the_run_settles(
    served: str, script: Any, theater: str
) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        run_id = client.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
        order_ids: list[str] = []

        def the_fleet_works() -> None:
            time.sleep(0.3)  # the stream is open and has sent the snapshot
            order_ids.extend(script.plan(run_id, theater, ["a", "b"]))
            signal = SignalEmitted(order_id=order_ids[0], attempt=1, note="working")
            script.ledger.append(order_ids[0], [signal], expected_version=None)
            script.integrate(run_id, order_ids[0])
            script.fail(run_id, order_ids[1])
            script.complete(run_id, "finished")

        fleet = threading.Thread(target=the_fleet_works)
        started = time.monotonic()
        headers = {"Accept": "text/event-stream"}
        with client.stream("GET", f"/runs/{run_id}/events", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            assert response.headers["X-Request-Id"].startswith("req_")
            fleet.start()
            messages = list(sse_messages(response.iter_lines()))
        fleet.join()

    assert time.monotonic() - started < 8, "the stream must end once the run settles"
    ours = [e for e in script.events() if e.stream_id in (run_id, *order_ids)]
    assert [m.data["id"] for m in messages] == [e.id for e in ours]
    assert [m.event for m in messages] == [e.type for e in ours]
    assert [m.id for m in messages] == [e.position for e in ours]
    assert messages[0].event == "RunReceived"
    assert messages[-1].event == "RunCompleted"
    assert "SignalEmitted" in [m.event for m in messages]


def test_sse_of_a_settled_run_sends_its_events_and_ends(
    served: str, script: Any, theater: str
) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        run_id = client.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
        script.complete(run_id)
        headers = {"Accept": "text/event-stream"}

        with client.stream("GET", f"/runs/{run_id}/events", headers=headers) as response:
            messages = list(sse_messages(response.iter_lines()))

        resumed_from = str(messages[0].id)
        with client.stream(
            "GET", f"/runs/{run_id}/events", headers={**headers, "Last-Event-ID": resumed_from}
        ) as response:
            resumed = list(sse_messages(response.iter_lines()))

    assert [m.event for m in messages] == ["RunReceived", "RunCompleted"]
    assert [m.event for m in resumed] == ["RunCompleted"]


@BOTH_DATABASES
def test_sse_with_racing_writers_misses_nothing_and_keeps_ledger_order(
    served: str, script: Any, theater: str
) -> None:
    with httpx.Client(base_url=served, timeout=20) as client:
        run_id = client.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
        order_ids = script.plan(run_id, theater, ["a", "b", "c"])

        def heartbeats(order_id: str) -> None:
            for n in range(15):
                signal = SignalEmitted(order_id=order_id, attempt=1, note=f"beat {n}")
                script.ledger.append(order_id, [signal], expected_version=None)

        writers = [threading.Thread(target=heartbeats, args=(o,)) for o in order_ids]
        headers = {"Accept": "text/event-stream"}
        for writer in writers:
            writer.start()
        with client.stream("GET", f"/runs/{run_id}/events", headers=headers) as response:
            for writer in writers:
                writer.join()
            script.complete(run_id)
            messages = list(sse_messages(response.iter_lines()))

    ours = [e for e in script.events() if e.stream_id in (run_id, *order_ids)]
    assert [m.id for m in messages] == [e.position for e in ours]
    assert sum(m.event == "SignalEmitted" for m in messages) == 45


def test_a_runs_budget_travels_with_its_first_event(
    gateway: TestClient, script: Any, theater: str
) -> None:
    body = {"message": "hi", "theater": theater, "budget": {"tokens": 5000, "cost_usd": 0.5}}
    run_id = gateway.post("/chat", json=body).json()["run_id"]

    (received,) = [e for e in script.events("RunReceived") if e.stream_id == run_id]
    assert received.data["budget"] == {"tokens": 5000, "cost_usd": 0.5}
    refused = gateway.post("/runs", json={**body, "budget": {"tokens": 0}})
    assert refused.status_code == 422
