"""The worker's Celery app and HTTP side, as the process builds them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ironclaw.contracts import tasks
from ironclaw.worker.app import QUEUE, create_app, create_celery
from ironclaw.worker.config import DEFAULT_ALLOWED_PROGRAMS, Settings


def test_the_celery_app_registers_execute_order_on_the_worker_queue(tmp_path) -> None:
    celery = create_celery(Settings(broker_url=f"filesystem://{tmp_path}/broker"))
    assert tasks.EXECUTE_ORDER in celery.tasks
    assert QUEUE == "worker"
    assert celery.conf.task_default_queue == "worker"
    assert celery.conf.task_acks_late is True


def test_the_celery_app_refuses_to_start_without_a_broker() -> None:
    with pytest.raises(ValueError, match="IRONCLAW_BROKER_URL"):
        create_celery(Settings(broker_url=None))


def test_health_answers_and_ready_checks_the_ledger(ledger_url: str) -> None:
    with TestClient(create_app(Settings(ledger_url=ledger_url))) as client:
        assert client.get("/health").json() == {"status": "ok", "service": "worker"}
        assert client.get("/ready").status_code == 200
    with TestClient(create_app(Settings(ledger_url="http://127.0.0.1:9"))) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["ledger"].startswith("error")


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IRONCLAW_VAULT_URL", raising=False)
    monkeypatch.setenv("IRONCLAW_TOOL_ALLOWED_PROGRAMS", '["python3", "make"]')
    settings = Settings()
    assert settings.vault_url == "http://127.0.0.1:8002"
    assert settings.tool_allowed_programs == ["python3", "make"]
    assert "bash" not in DEFAULT_ALLOWED_PROGRAMS
    assert "git" not in DEFAULT_ALLOWED_PROGRAMS
