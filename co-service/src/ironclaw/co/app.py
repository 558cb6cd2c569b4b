"""The co service's Celery app (queue `co`) and its health HTTP app."""

from __future__ import annotations

from celery import Celery
from fastapi import FastAPI

from ironclaw.co.config import Settings
from ironclaw.co.domain.playbooks import load_playbooks
from ironclaw.co.tasks import ledger_for, register_tasks
from ironclaw.contracts import tasks
from ironclaw.contracts.kit.celery import create_celery_app
from ironclaw.contracts.kit.health import ReadinessCheck, health_app

QUEUE = tasks.queue_for(tasks.PLAN_RUN)
READY_TIMEOUT_S = 2.0


def readiness_checks(settings: Settings) -> dict[str, ReadinessCheck]:
    """The ledger answers, and the playbooks the matcher falls back to can be loaded."""

    def ledger() -> None:
        with ledger_for(settings, timeout_s=READY_TIMEOUT_S, retry_for_s=0) as client:
            client.health()

    def playbooks() -> None:
        load_playbooks(settings.playbooks_dir)

    return {"ledger": ledger, "playbooks": playbooks}


def create_app(settings: Settings | None = None) -> FastAPI:
    """The worker's HTTP side: `/health` and `/ready`, served beside the Celery worker."""
    settings = settings or Settings()
    return health_app("IronClaw co", settings.service_name, readiness_checks(settings))


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app consuming `co` with the co tasks; refuses to start without a broker URL."""
    settings = settings or Settings()
    celery = create_celery_app(settings.service_name, settings.broker_url, QUEUE)
    register_tasks(celery, settings)
    return celery
