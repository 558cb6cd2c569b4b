"""The integration service's Celery app (queue `integration`) and its health HTTP app."""

from __future__ import annotations

from celery import Celery
from fastapi import FastAPI

from ironclaw.contracts import tasks
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.celery import create_celery_app
from ironclaw.contracts.kit.git import git
from ironclaw.contracts.kit.health import health_app
from ironclaw.integration.config import Settings
from ironclaw.integration.tasks import register_tasks

QUEUE = tasks.queue_for(tasks.INTEGRATE_ORDER)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The worker's HTTP side: `/health`, and `/ready` (ledger reachable, git installed)."""
    settings = settings or Settings()

    def ledger_answers() -> None:
        with LedgerClient(settings.ledger_url, token=settings.internal_token, retry_for_s=0) as c:
            c.health()

    def git_installed() -> None:
        git(".", "--version")

    checks = {"ledger": ledger_answers, "git": git_installed}
    return health_app("IronClaw integration", settings.service_name, checks)


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app consuming `integration`; refuses to start without `IRONCLAW_BROKER_URL`."""
    settings = settings or Settings()
    celery = create_celery_app(settings.service_name, settings.broker_url, QUEUE)
    register_tasks(celery, settings)
    return celery
