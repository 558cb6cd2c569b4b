"""The learning service's health, settings, internal-token guard and Celery configuration."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ironclaw.contracts.kit.errors import install_error_handling
from ironclaw.learning.api import internal_api
from ironclaw.learning.app import create_app, create_celery, create_health_app
from ironclaw.learning.config import Settings


def test_health_names_the_service() -> None:
    response = TestClient(create_app(Settings())).get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "learning"}
    assert response.headers["X-Request-Id"].startswith("req_")


def test_settings_come_from_ironclaw_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRONCLAW_HTTP_PORT", "9100")
    monkeypatch.setenv("IRONCLAW_LEDGER_URL", "http://ledger.test:8001")
    monkeypatch.setenv("IRONCLAW_BROKER_URL", "redis://broker.test:6379/0")

    settings = Settings()

    assert settings.service_name == "learning"
    assert settings.http_port == 9100
    assert settings.ledger_url == "http://ledger.test:8001"
    assert settings.broker_url == "redis://broker.test:6379/0"


def test_port_defaults_to_8003(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IRONCLAW_HTTP_PORT", raising=False)

    assert Settings().http_port == 8003


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


def test_celery_acks_late_takes_one_message_at_a_time_and_speaks_json_only() -> None:
    conf = create_celery(Settings(broker_url="memory://")).conf

    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.task_default_queue == "learning"


def test_a_redis_broker_gets_a_visibility_timeout() -> None:
    conf = create_celery(Settings(broker_url="redis://127.0.0.1:6379/0")).conf

    assert conf.broker_transport_options == {"visibility_timeout": 7200}


def test_celery_refuses_a_missing_broker_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IRONCLAW_BROKER_URL", raising=False)

    with pytest.raises(ValueError, match="IRONCLAW_BROKER_URL is not set"):
        create_celery(Settings())


def test_the_consumers_health_app_answers_health() -> None:
    response = TestClient(create_health_app(Settings())).get("/health")

    assert response.json() == {"status": "ok", "service": "learning"}
