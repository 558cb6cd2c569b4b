"""The vault service's FastAPI application, built on demand."""

from __future__ import annotations

from fastapi import FastAPI

from ironclaw.contracts.kit.health import health_app
from ironclaw.vault.api import internal_api
from ironclaw.vault.config import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The internal API behind the token guard, plus open `/health` and `/ready`."""
    settings = settings or Settings()
    app = health_app("IronClaw vault", settings.service_name)
    app.include_router(internal_api(settings))
    return app
