"""The worker service's Celery app (queue `worker`) and its health HTTP app."""

from __future__ import annotations

from celery import Celery
from fastapi import FastAPI

from ironclaw.contracts import tasks
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.celery import create_celery_app
from ironclaw.contracts.kit.health import health_app
from ironclaw.worker.config import Settings
from ironclaw.worker.tasks import register_tasks

QUEUE = tasks.queue_for(tasks.EXECUTE_ORDER)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The worker's HTTP side: `/health` and `/ready`, served beside the Celery worker."""
    settings = settings or Settings()
    ledger_url, token = settings.ledger_url, settings.internal_token

    def ledger_answers() -> None:
        with LedgerClient(ledger_url, token=token, timeout_s=3, retry_for_s=0) as ledger:
            ledger.health()

    return health_app("IronClaw worker", settings.service_name, {"ledger": ledger_answers})


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app consuming `worker` with `worker.execute_order`; needs `IRONCLAW_BROKER_URL`."""
    settings = settings or Settings()
    celery = create_celery_app(settings.service_name, settings.broker_url, QUEUE)
    register_tasks(celery, settings)
    return celery
