"""The integration service's Celery app (queue `integration`) and its health HTTP app."""

from __future__ import annotations

from celery import Celery
from fastapi import FastAPI

from ironclaw.contracts import tasks
from ironclaw.contracts.kit.celery import create_celery_app
from ironclaw.contracts.kit.health import health_app
from ironclaw.integration.config import Settings

QUEUE = tasks.queue_for(tasks.INTEGRATE_ORDER)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The worker's HTTP side: `/health` and `/ready`, served beside the Celery worker."""
    settings = settings or Settings()
    return health_app("IronClaw integration", settings.service_name)


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app consuming `integration`; refuses to start without `IRONCLAW_BROKER_URL`."""
    settings = settings or Settings()
    return create_celery_app(settings.service_name, settings.broker_url, QUEUE)
