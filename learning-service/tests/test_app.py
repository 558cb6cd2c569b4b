"""The learning service's second app: what its Celery consumer process serves.

Health, settings, the internal-token guard and the Celery configuration, which it shares with
other services, are checked in tests/contract/test_service_apps.py.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from ironclaw.learning.app import create_health_app
from ironclaw.learning.config import Settings


def test_the_consumers_health_app_answers_health() -> None:
    response = TestClient(create_health_app(Settings())).get("/health")

    assert response.json() == {"status": "ok", "service": "learning"}
