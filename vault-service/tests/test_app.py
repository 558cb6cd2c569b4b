"""The vault service's health endpoint, settings and internal-token guard."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ironclaw.contracts.kit.errors import install_error_handling
from ironclaw.vault.api import internal_api
from ironclaw.vault.app import create_app
from ironclaw.vault.config import Settings


def test_health_names_the_service() -> None:
    response = TestClient(create_app(Settings())).get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "vault"}
    assert response.headers["X-Request-Id"].startswith("req_")


def test_settings_come_from_ironclaw_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRONCLAW_HTTP_PORT", "9100")
    monkeypatch.setenv("IRONCLAW_LEDGER_URL", "http://ledger.test:8001")
    monkeypatch.setenv("IRONCLAW_BROKER_URL", "redis://broker.test:6379/0")

    settings = Settings()

    assert settings.service_name == "vault"
    assert settings.http_port == 9100
    assert settings.ledger_url == "http://ledger.test:8001"
    assert settings.broker_url == "redis://broker.test:6379/0"


def test_port_defaults_to_8002(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IRONCLAW_HTTP_PORT", raising=False)

    assert Settings().http_port == 8002


def guarded_probe(settings: Settings) -> TestClient:
    """An app whose only route is declared on the internal router, as real routes will be."""
    router = internal_api(settings)

    @router.get("/probe")
    def probe() -> dict[str, str]:
        return {"probe": "ok"}

    app = FastAPI()
    install_error_handling(app)
    app.include_router(router)
    return TestClient(app)


def test_internal_routes_refuse_calls_without_the_token() -> None:
    client = guarded_probe(Settings(internal_token="s3cret"))

    refused = client.get("/probe")
    wrong = client.get("/probe", headers={"Authorization": "Bearer nope"})
    allowed = client.get("/probe", headers={"Authorization": "Bearer s3cret"})

    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert wrong.status_code == 401
    assert allowed.status_code == 200


def test_internal_routes_are_open_when_no_token_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IRONCLAW_INTERNAL_TOKEN", raising=False)

    assert guarded_probe(Settings()).get("/probe").status_code == 200


def test_health_stays_open_when_a_token_is_set() -> None:
    response = TestClient(create_app(Settings(internal_token="s3cret"))).get("/health")

    assert response.status_code == 200
