"""API keys, rate limits, body limits and request ids in front of every protected route."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

KEYS = "first-key-0123456789, second-key-9876543210"
BEARER = {"Authorization": "Bearer second-key-9876543210"}
PROTECTED = [
    ("POST", "/chat"),
    ("POST", "/runs"),
    ("GET", "/runs/run_00000000000000000000000000"),
    ("GET", "/runs/run_00000000000000000000000000/events"),
    ("POST", "/runs/run_00000000000000000000000000/cancel"),
    ("GET", "/orders/ord_00000000000000000000000000"),
    ("POST", "/orders/ord_00000000000000000000000000/retry"),
    ("GET", "/theaters"),
    ("POST", "/theaters"),
    ("GET", "/theaters/demo"),
]


@pytest.fixture
def guarded(gateway_for: Callable[..., TestClient]) -> TestClient:
    return gateway_for(api_keys=KEYS)


def test_with_api_keys_every_protected_route_needs_one(guarded: TestClient, script: Any) -> None:
    for method, path in PROTECTED:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}):
            response = guarded.request(method, path, json={"message": "hi"}, headers=headers)

            assert response.status_code == 401, (method, path, headers)
            assert response.headers["Content-Type"] == "application/problem+json"
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert response.headers["X-Request-Id"].startswith("req_")
    assert script.events() == []


def test_a_valid_key_is_let_in(guarded: TestClient, script: Any, theater: str) -> None:
    response = guarded.post("/chat", json={"message": "hi", "theater": theater}, headers=BEARER)

    assert response.status_code == 202
    assert len(script.events("RunReceived")) == 1


def test_health_ready_and_docs_stay_open(guarded: TestClient) -> None:
    assert guarded.get("/health").status_code == 200
    assert guarded.get("/ready").status_code == 200
    assert guarded.get("/docs").status_code == 200
    paths = guarded.get("/openapi.json").json()["paths"]
    assert {"/chat", "/runs", "/runs/{run_id}/events", "/theaters/{name}"} <= set(paths)


def test_without_api_keys_the_api_is_open_and_warns_once(
    gateway_for: Callable[..., TestClient], theater: str
) -> None:
    with capture_logs() as logs:
        gateway = gateway_for()
        chat = gateway.post("/chat", json={"message": "hi", "theater": theater})
        listed = gateway.get("/theaters")
        gateway_for(api_keys=KEYS)

    assert chat.status_code == 202
    assert listed.status_code == 200
    warnings = [log for log in logs if log["event"] == "gateway.auth.disabled"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"


def test_api_keys_from_a_file(
    gateway_for: Callable[..., TestClient],
    theater: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = tmp_path / "api_keys"
    secret.write_text("filed-key-000111\n")
    monkeypatch.setenv("IRONCLAW_API_KEYS_FILE", str(secret))
    gateway = gateway_for(api_keys=...)  # ... leaves it to the environment

    denied = gateway.get("/theaters")
    allowed = gateway.get("/theaters", headers={"Authorization": "Bearer filed-key-000111"})

    assert denied.status_code == 401
    assert allowed.status_code == 200


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_over_the_rate_limit_is_429_with_retry_after(
    gateway_for: Callable[..., TestClient],
    request: pytest.FixtureRequest,
    theater: str,
    storage: str,
) -> None:
    broker = request.getfixturevalue("redis_db_url") if storage == "redis" else None
    key = f"limited-{uuid.uuid4().hex}"
    other = f"other-{uuid.uuid4().hex}"
    gateway = gateway_for(api_keys=f"{key},{other}", rate_limit="3/minute", broker_url=broker)
    headers = {"Authorization": f"Bearer {key}"}

    answers = [gateway.get("/theaters", headers=headers).status_code for _ in range(4)]
    refused = gateway.get("/theaters", headers=headers)
    someone_else = gateway.get("/theaters", headers={"Authorization": f"Bearer {other}"})

    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "rate limit of 3/minute exceeded" in refused.json()["detail"]
    assert someone_else.status_code == 200
    assert gateway.get("/health").status_code == 200


def test_redis_rate_limits_are_shared_by_gateway_processes(
    gateway_for: Callable[..., TestClient], redis_db_url: str, theater: str
) -> None:
    key = f"shared-{uuid.uuid4().hex}"
    settings = {"api_keys": key, "rate_limit": "2/minute", "broker_url": redis_db_url}
    one, two = gateway_for(**settings), gateway_for(**settings)
    headers = {"Authorization": f"Bearer {key}"}

    assert one.get("/theaters", headers=headers).status_code == 200
    assert two.get("/theaters", headers=headers).status_code == 200
    assert one.get("/theaters", headers=headers).status_code == 429
    assert two.get("/theaters", headers=headers).status_code == 429


def test_a_body_over_the_limit_is_413_by_content_length(gateway: TestClient, script: Any) -> None:
    message = "x" * (1024 * 1024)

    response = gateway.post("/chat", json={"message": message, "theater": "demo"})

    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "exceeds the limit of 1048576 bytes" in response.json()["detail"]
    assert response.headers["X-Request-Id"].startswith("req_")
    assert script.events() == []


def test_a_streamed_body_over_the_limit_is_413(gateway: TestClient, script: Any) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(300):
            yield b"y" * 4096
        yield b'"}'

    response = gateway.post("/chat", content=chunks(), headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["X-Request-Id"].startswith("req_")
    assert script.events() == []


def test_a_body_just_under_the_limit_is_read(gateway_for: Callable[..., TestClient]) -> None:
    gateway = gateway_for(max_body_bytes=64)

    small = gateway.post("/chat", json={"message": "hi", "theater": "nowhere"})
    large = gateway.post("/chat", json={"message": "h" * 64, "theater": "nowhere"})

    assert small.status_code == 404
    assert large.status_code == 413


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/theaters"), ("GET", "/runs/run_00000000000000000000000000"), ("POST", "/chat")],
)
def test_every_answer_carries_a_request_id(gateway: TestClient, method: str, path: str) -> None:
    response = gateway.request(method, path, json={})
    echoed = gateway.request(method, path, json={}, headers={"X-Request-Id": "req_mine"})

    assert response.headers["X-Request-Id"].startswith("req_")
    assert echoed.headers["X-Request-Id"] == "req_mine"


def test_a_post_counts_once_against_the_rate_limit(
    gateway_for: Callable[..., TestClient], theater: str
) -> None:
    gateway = gateway_for(rate_limit="2/minute")
    body = {"message": "hi", "theater": theater}

    answers = [
        gateway.post("/chat", json=body, headers={"Idempotency-Key": "same"}).status_code
        for _ in range(3)
    ]

    assert answers == [202, 202, 429]
