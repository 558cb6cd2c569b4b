"""What every thin service's app and settings promise, checked service by service.

Each service's own tests keep only what is its alone (the gateway's readiness, the learning
service's second app); what they all share is here, once, parametrized over the services.
"""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from fleet_services import (
    CONSUMERS,
    PATROLS,
    SERVICES,
    WITH_INTERNAL_API,
    Service,
    service_id,
)

from ironclaw.contracts.kit.errors import install_error_handling
from ironclaw.contracts.kit.settings import ServiceSettings

every_service = pytest.mark.parametrize("service", SERVICES, ids=service_id)
every_consumer = pytest.mark.parametrize("service", CONSUMERS, ids=service_id)
every_patrol = pytest.mark.parametrize("service", PATROLS, ids=service_id)
every_internal_api = pytest.mark.parametrize("service", WITH_INTERNAL_API, ids=service_id)


def settings_of(service: Service, **values: object) -> ServiceSettings:
    settings: ServiceSettings = service.module("config").Settings(**values)
    return settings


def client_of(service: Service, settings: ServiceSettings) -> TestClient:
    return TestClient(service.module("app").create_app(settings))


# --- health and settings ----------------------------------------------------------------------


@every_service
def test_health_names_the_service(service: Service) -> None:
    response = client_of(service, settings_of(service)).get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": service.name}
    assert response.headers["X-Request-Id"].startswith("req_")


@every_service
def test_settings_come_from_ironclaw_env(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRONCLAW_HTTP_PORT", "9100")
    monkeypatch.setenv("IRONCLAW_LEDGER_URL", "http://ledger.test:8001")
    monkeypatch.setenv("IRONCLAW_BROKER_URL", "redis://broker.test:6379/0")

    settings = settings_of(service)

    assert settings.service_name == service.name
    assert settings.http_port == 9100
    assert settings.ledger_url == "http://ledger.test:8001"
    assert settings.broker_url == "redis://broker.test:6379/0"


@every_service
def test_each_service_has_its_own_default_port(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IRONCLAW_HTTP_PORT", raising=False)

    assert settings_of(service).http_port == service.port


@every_patrol
def test_the_patrol_interval_comes_from_env(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IRONCLAW_PATROL_INTERVAL_S", "5")

    settings = service.module("config").Settings()

    assert settings.patrol_interval_s == 5.0


# --- Celery consumers -------------------------------------------------------------------------


@every_consumer
def test_celery_acks_late_takes_one_message_at_a_time_and_speaks_json_only(
    service: Service,
) -> None:
    settings = settings_of(service, broker_url="memory://")
    conf = service.module("app").create_celery(settings).conf

    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.task_default_queue == service.queue


@every_consumer
def test_a_redis_broker_gets_a_visibility_timeout(service: Service) -> None:
    settings = settings_of(service, broker_url="redis://127.0.0.1:6379/0")
    conf = service.module("app").create_celery(settings).conf

    assert conf.broker_transport_options == {"visibility_timeout": 7200}


@every_consumer
def test_celery_refuses_a_missing_broker_url(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IRONCLAW_BROKER_URL", raising=False)

    with pytest.raises(ValueError, match="IRONCLAW_BROKER_URL is not set"):
        service.module("app").create_celery(settings_of(service))


# --- internal APIs ----------------------------------------------------------------------------


def guarded_probe(service: Service, settings: ServiceSettings) -> TestClient:
    """An app whose only route is declared on the internal router, as real routes will be."""
    router: APIRouter = service.module("api").internal_api(settings)

    @router.get("/probe")
    def probe() -> dict[str, str]:
        return {"probe": "ok"}

    app = FastAPI()
    install_error_handling(app)
    app.include_router(router)
    return TestClient(app)


@every_internal_api
def test_internal_routes_refuse_calls_without_the_token(service: Service) -> None:
    client = guarded_probe(service, settings_of(service, internal_token="s3cret"))

    refused = client.get("/probe")
    wrong = client.get("/probe", headers={"Authorization": "Bearer nope"})
    allowed = client.get("/probe", headers={"Authorization": "Bearer s3cret"})

    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert wrong.status_code == 401
    assert allowed.status_code == 200


@every_internal_api
def test_internal_routes_are_open_when_no_token_is_set(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IRONCLAW_INTERNAL_TOKEN", raising=False)

    assert guarded_probe(service, settings_of(service)).get("/probe").status_code == 200


@every_internal_api
def test_health_stays_open_when_a_token_is_set(service: Service) -> None:
    response = client_of(service, settings_of(service, internal_token="s3cret")).get("/health")

    assert response.status_code == 200
