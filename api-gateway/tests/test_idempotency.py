"""`Idempotency-Key`: a repeated key gets the first answer and the work happens once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from openai_server import serve

from ironclaw.gateway.app import create_app
from ironclaw.gateway.config import Settings


def keyed(key: str, **headers: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **headers}


def test_a_repeated_key_returns_the_first_run(
    gateway: TestClient, script: Any, theater: str
) -> None:
    body = {"message": "once", "theater": theater}

    first = gateway.post("/chat", json=body, headers=keyed("k-1"))
    again = gateway.post("/chat", json=body, headers=keyed("k-1"))

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(script.events("RunReceived")) == 1


def test_the_same_body_encoded_differently_is_the_same_request(
    gateway: TestClient, script: Any, theater: str
) -> None:
    compact = f'{{"message":"once","theater":"{theater}"}}'
    spaced = f'{{ "theater": "{theater}",  "message": "once" }}'
    json_type = {"Content-Type": "application/json"}

    first = gateway.post("/chat", content=compact, headers=keyed("k-enc", **json_type))
    again = gateway.post("/chat", content=spaced, headers=keyed("k-enc", **json_type))

    assert again.json()["run_id"] == first.json()["run_id"]
    assert len(script.events("RunReceived")) == 1


def test_a_key_reused_for_another_request_is_422(
    gateway: TestClient, script: Any, theater: str
) -> None:
    gateway.post("/chat", json={"message": "one", "theater": theater}, headers=keyed("k-2"))

    other = gateway.post("/chat", json={"message": "two", "theater": theater}, headers=keyed("k-2"))
    elsewhere = gateway.post(
        "/runs", json={"message": "one", "theater": theater}, headers=keyed("k-2")
    )

    assert other.status_code == elsewhere.status_code == 422
    assert other.headers["Content-Type"] == "application/problem+json"
    assert "already used for a different request" in other.json()["detail"]
    assert len(script.events("RunReceived")) == 1


def test_keys_are_counted_per_api_key(
    gateway_for: Callable[..., TestClient], script: Any, theater: str
) -> None:
    gateway = gateway_for(api_keys="alice-key-123456,bob-key-654321")
    body = {"message": "same", "theater": theater}

    alice = gateway.post(
        "/chat", json=body, headers=keyed("shared", Authorization="Bearer alice-key-123456")
    )
    bob = gateway.post(
        "/chat", json=body, headers=keyed("shared", Authorization="Bearer bob-key-654321")
    )

    assert alice.json()["run_id"] != bob.json()["run_id"]
    assert len(script.events("RunReceived")) == 2


def test_a_failed_request_frees_its_key(gateway: TestClient, script: Any) -> None:
    body = {"message": "later", "theater": "demo"}

    missing = gateway.post("/chat", json=body, headers=keyed("k-3"))
    script.register_theater("demo")
    found = gateway.post("/chat", json=body, headers=keyed("k-3"))

    assert missing.status_code == 404
    assert found.status_code == 202
    assert len(script.events("RunReceived")) == 1


def test_a_malformed_key_is_422(gateway: TestClient, theater: str) -> None:
    body = {"message": "hi", "theater": theater}

    too_long = gateway.post("/chat", json=body, headers=keyed("k" * 256))
    unprintable = gateway.post("/chat", json=body, headers=keyed("a\tb"))

    assert too_long.status_code == unprintable.status_code == 422


@pytest.fixture(params=["memory", "redis"])
def served_url(
    request: pytest.FixtureRequest, settings_for: Callable[..., Settings]
) -> Iterator[str]:
    """The gateway on a real port, keeping replies in memory or in a Redis database of its own."""
    broker = request.getfixturevalue("redis_db_url") if request.param == "redis" else None
    with serve(create_app(settings_for(broker_url=broker))) as url:
        yield url


@pytest.mark.parametrize("wait_s", [0, 1])
def test_concurrent_duplicates_create_one_run(
    served_url: str, script: Any, theater: str, wait_s: float
) -> None:
    key = f"race-{uuid.uuid4().hex}"
    body = {"message": "race", "theater": theater, "wait_s": wait_s}
    start = threading.Barrier(5)
    answers: list[httpx.Response] = []

    def submit() -> None:
        with httpx.Client(base_url=served_url, timeout=20) as client:
            start.wait()
            answers.append(client.post("/chat", json=body, headers=keyed(key)))

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answer.status_code for answer in answers] == [202] * 5
    assert len({answer.json()["run_id"] for answer in answers}) == 1
    assert len(script.events("RunReceived")) == 1
    assert sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers) == 4


def test_redis_replies_are_shared_by_gateway_processes(
    gateway_for: Callable[..., TestClient], redis_db_url: str, script: Any, theater: str
) -> None:
    one, two = gateway_for(broker_url=redis_db_url), gateway_for(broker_url=redis_db_url)
    body = {"message": "shared", "theater": theater}

    first = one.post("/chat", json=body, headers=keyed("k-shared"))
    again = two.post("/chat", json=body, headers=keyed("k-shared"))

    assert again.json() == first.json()
    assert len(script.events("RunReceived")) == 1
