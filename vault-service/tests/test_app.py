"""The vault's app: the internal token on every route but /health and /ready; readiness."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ironclaw.contracts.ids import new_id
from ironclaw.vault.app import create_app
from ironclaw.vault.config import Settings

TOKEN = "s3cret"
GUARDED = [
    ("GET", "/theaters"),
    ("GET", "/theaters/default"),
    ("POST", "/theaters"),
    ("POST", "/theaters/default/ensure"),
    ("POST", "/worktrees"),
    ("DELETE", f"/worktrees/{new_id('ord')}/1"),
    ("POST", "/artifacts?name=x"),
    ("GET", f"/artifacts/{new_id('art')}"),
]


def test_every_route_but_health_and_ready_needs_the_internal_token(
    settings: Settings, home: Path
) -> None:
    guarded = Settings(home=settings.home, ledger_url=settings.ledger_url, internal_token=TOKEN)
    with TestClient(create_app(guarded)) as client:
        refused = [client.request(method, path).status_code for method, path in GUARDED]
        touched = (home / "theaters").exists() or (home / "artifacts").exists()
        health = client.get("/health").status_code
        ready = client.get("/ready").status_code
        ensured = client.post(
            "/theaters/default/ensure", headers={"Authorization": f"Bearer {TOKEN}"}
        )

    assert refused == [401] * len(GUARDED)
    assert not touched
    assert (health, ready) == (200, 200)
    assert ensured.status_code == 200


def test_every_route_of_the_app_is_guarded_or_open_on_purpose(settings: Settings) -> None:
    guarded = Settings(home=settings.home, ledger_url=settings.ledger_url, internal_token=TOKEN)
    paths = create_app(guarded).openapi()["paths"]
    routes = {(m.upper(), p) for p, ops in paths.items() for m in ops}

    assert routes - {("GET", "/health"), ("GET", "/ready")} == {
        ("GET", "/theaters"),
        ("POST", "/theaters"),
        ("GET", "/theaters/{name}"),
        ("POST", "/theaters/{name}/ensure"),
        ("POST", "/worktrees"),
        ("DELETE", "/worktrees/{order_id}/{attempt}"),
        ("POST", "/artifacts"),
        ("GET", "/artifacts/{artifact_id}"),
    }


def test_ready_when_the_ledger_answers_and_home_is_writable(vault: TestClient) -> None:
    response = vault.get("/ready")

    assert response.status_code == 200
    assert response.json()["checks"] == {"ledger": "ok", "home": "ok"}


def test_not_ready_without_a_ledger(home: Path, unused_port: int) -> None:
    settings = Settings(home=home, ledger_url=f"http://127.0.0.1:{unused_port}")
    with TestClient(create_app(settings)) as client:
        response = client.get("/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["ledger"].startswith("error")
    assert response.json()["checks"]["home"] == "ok"


def test_not_ready_when_home_cannot_be_written(settings: Settings, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with TestClient(create_app(settings.model_copy(update={"home": blocked}))) as client:
        response = client.get("/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["home"].startswith("error")


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
