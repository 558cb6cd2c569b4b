"""The duty officer service's health endpoint and settings."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ironclaw.duty.app import create_app
from ironclaw.duty.config import Settings


def test_health_names_the_service() -> None:
    response = TestClient(create_app(Settings())).get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "duty"}
    assert response.headers["X-Request-Id"].startswith("req_")


def test_settings_come_from_ironclaw_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRONCLAW_HTTP_PORT", "9100")
    monkeypatch.setenv("IRONCLAW_LEDGER_URL", "http://ledger.test:8001")
    monkeypatch.setenv("IRONCLAW_BROKER_URL", "redis://broker.test:6379/0")

    settings = Settings()

    assert settings.service_name == "duty"
    assert settings.http_port == 9100
    assert settings.ledger_url == "http://ledger.test:8001"
    assert settings.broker_url == "redis://broker.test:6379/0"


def test_port_defaults_to_8014(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IRONCLAW_HTTP_PORT", raising=False)

    assert Settings().http_port == 8014


def test_patrol_interval_comes_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRONCLAW_PATROL_INTERVAL_S", "5")

    assert Settings().patrol_interval_s == 5.0
