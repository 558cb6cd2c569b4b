"""The gateway's FastAPI application and its Celery app, built on demand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from celery import Celery
from fastapi import FastAPI

from ironclaw.contracts import tasks
from ironclaw.contracts.kit.celery import create_celery_app
from ironclaw.contracts.kit.errors import install_error_handling
from ironclaw.contracts.kit.health import health_app, health_router
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.gateway.api import (
    events,
    orders,
    profile_health,
    profiles,
    runs,
    theaters,
    webhooks,
)
from ironclaw.gateway.api.body_limit import BodyLimitMiddleware
from ironclaw.gateway.api.deps import Gateway
from ironclaw.gateway.api.json_bodies import JsonBodiesMiddleware
from ironclaw.gateway.api.problems import install_dependency_problems
from ironclaw.gateway.config import Settings
from ironclaw.gateway.readiness import readiness_checks
from ironclaw.gateway.tasks import register_tasks

QUEUE = tasks.queue_for(tasks.DELIVER_REPLY)
DESCRIPTION = (
    "Chat and structured runs, their events (JSON or SSE), orders, cancellation, retries and "
    "theaters. Errors are application/problem+json; every response carries X-Request-Id."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The public API (ARCHITECTURE section 4), with `/health`, `/ready` and `/docs`."""
    settings = settings or Settings()
    gateway = Gateway.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not gateway.api_keys.enforced:
            get_logger().warning(
                "gateway.auth.disabled",
                detail="IRONCLAW_API_KEYS is unset: the API is open to anyone who can reach it",
            )
        try:
            yield
        finally:
            gateway.close()

    app = FastAPI(title="IronClaw gateway", description=DESCRIPTION, lifespan=lifespan)
    # Added before the error handling's request-id middleware, so it runs inside it: its 413s
    # carry a request id, and a streamed body's 413 reaches the problem+json handler unwrapped.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(JsonBodiesMiddleware)
    install_error_handling(app)
    install_dependency_problems(app, settings)
    app.include_router(health_router(settings.service_name, readiness_checks(settings)))
    for module in (runs, events, orders, theaters, profile_health, profiles, webhooks):
        app.include_router(module.router)
    app.state.settings = settings
    app.state.gateway = gateway
    return app


def create_worker_app(settings: Settings | None = None) -> FastAPI:
    """The reply worker's HTTP side: `/health` and `/ready`, served beside the Celery worker."""
    settings = settings or Settings()
    return health_app("IronClaw gateway replies", settings.service_name)


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app consuming `gateway`; refuses to start without `IRONCLAW_BROKER_URL`."""
    settings = settings or Settings()
    celery = create_celery_app(settings.service_name, settings.broker_url, QUEUE)
    register_tasks(celery, settings)
    return celery
