"""The learning service's apps: the internal API, and a Celery consumer of queue `learning`."""

from __future__ import annotations

from celery import Celery
from fastapi import FastAPI

from ironclaw.contracts import tasks
from ironclaw.contracts.kit.celery import create_celery_app
from ironclaw.contracts.kit.health import health_app
from ironclaw.learning.api import internal_api
from ironclaw.learning.config import Settings

QUEUE = tasks.queue_for(tasks.RECORD_OUTCOME)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The internal API behind the token guard, plus open `/health` and `/ready`."""
    settings = settings or Settings()
    app = create_health_app(settings)
    app.include_router(internal_api(settings))
    return app


def create_health_app(settings: Settings | None = None) -> FastAPI:
    """Only `/health` and `/ready`: what the Celery consumer process serves."""
    settings = settings or Settings()
    return health_app("IronClaw learning", settings.service_name)


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app consuming `learning`; refuses to start without `IRONCLAW_BROKER_URL`."""
    settings = settings or Settings()
    return create_celery_app(settings.service_name, settings.broker_url, QUEUE)
