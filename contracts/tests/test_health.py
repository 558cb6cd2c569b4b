from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from fastapi.testclient import TestClient

from ironclaw.contracts.kit.health import ReadinessCheck, health_app, health_router


def _client(checks: Mapping[str, ReadinessCheck] | None = None) -> TestClient:
    app = FastAPI()
    app.include_router(health_router("ledger", checks))
    return TestClient(app)


def _passes() -> None:
    return None


def _database_down() -> None:
    raise ConnectionError("connection refused on 127.0.0.1:5432")


def test_health_is_ok() -> None:
    response = _client().get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "ledger"}


def test_health_stays_ok_while_a_dependency_is_down() -> None:
    # Liveness must not fail on a dependency, or the orchestrator restarts a healthy process.
    assert _client({"database": _database_down}).get("/health").status_code == 200


def test_ready_without_checks_is_ok() -> None:
    response = _client().get("/ready")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_ready_when_all_checks_pass() -> None:
    response = _client({"database": _passes, "redis": _passes}).get("/ready")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "service": "ledger",
        "checks": {"database": "ok", "redis": "ok"},
    }


def test_not_ready_when_a_check_raises_with_the_reason() -> None:
    response = _client({"database": _database_down, "redis": _passes}).get("/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["service"] == "ledger"
    assert body["checks"]["redis"] == "ok"
    assert body["checks"]["database"].startswith("error: ")
    assert "connection refused on 127.0.0.1:5432" in body["checks"]["database"]


def test_ready_runs_the_checks_on_every_call() -> None:
    state = {"up": False}

    def flaky() -> None:
        if not state["up"]:
            raise RuntimeError("still starting")

    client = _client({"broker": flaky})

    assert client.get("/ready").status_code == 503
    state["up"] = True
    assert client.get("/ready").status_code == 200


def test_a_service_app_has_health_ready_problem_json_and_request_ids() -> None:
    app = health_app("IronClaw probe", "probe", {"broker": _database_down})
    client = TestClient(app)

    health = client.get("/health")
    ready = client.get("/ready")
    missing = client.get("/no-such-route")

    assert app.title == "IronClaw probe"
    assert health.json() == {"status": "ok", "service": "probe"}
    assert ready.status_code == 503
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert all(r.headers["X-Request-Id"].startswith("req_") for r in (health, ready, missing))
