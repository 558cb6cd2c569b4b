"""The learning service's apps: the internal API, and a Celery consumer of queue `learning`."""

from __future__ import annotations

from urllib.parse import urlsplit

from celery import Celery
from fastapi import FastAPI

from ironclaw.contracts import tasks
from ironclaw.contracts.kit.errors import install_error_handling
from ironclaw.contracts.kit.health import health_router
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
    app = FastAPI(title="IronClaw learning")
    install_error_handling(app)
    app.include_router(health_router(settings.service_name))
    return app


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app consuming `learning`; refuses to start without `IRONCLAW_BROKER_URL`."""
    settings = settings or Settings()
    if not settings.broker_url:
        raise ValueError(
            "IRONCLAW_BROKER_URL is not set: the learning worker needs a broker, "
            "e.g. redis://localhost:6379/0"
        )
    celery = Celery(settings.service_name, broker=settings.broker_url)
    celery.conf.update(celery_config(settings.broker_url, QUEUE))
    return celery


def celery_config(broker_url: str, queue: str) -> dict[str, object]:
    """The fleet's Celery settings: ack after the task ran, one message at a time, JSON only."""
    config: dict[str, object] = {
        "task_default_queue": queue,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "worker_hijack_root_logger": False,
        "broker_connection_retry_on_startup": True,
    }
    if urlsplit(broker_url).scheme in ("redis", "rediss"):
        # Redis redelivers a message unacked for this long, so it must outlast the longest task.
        config["broker_transport_options"] = {"visibility_timeout": 7200}
    return config
