"""The HTTP side of the observer patrol process: health only."""

from __future__ import annotations

from fastapi import FastAPI

from ironclaw.contracts.kit.errors import install_error_handling
from ironclaw.contracts.kit.health import health_router
from ironclaw.observer.config import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """`/health` and `/ready` for the patrol process."""
    settings = settings or Settings()
    app = FastAPI(title="IronClaw observer")
    install_error_handling(app)
    app.include_router(health_router(settings.service_name))
    return app
