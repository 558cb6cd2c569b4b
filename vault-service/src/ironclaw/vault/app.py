"""The vault service's FastAPI application, built on demand."""

from __future__ import annotations

from fastapi import FastAPI

from ironclaw.contracts.kit.errors import install_error_handling
from ironclaw.contracts.kit.health import health_router
from ironclaw.vault.api import internal_api
from ironclaw.vault.config import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The internal API behind the token guard, plus open `/health` and `/ready`."""
    settings = settings or Settings()
    app = FastAPI(title="IronClaw vault")
    install_error_handling(app)
    app.include_router(health_router(settings.service_name))
    app.include_router(internal_api(settings))
    return app
