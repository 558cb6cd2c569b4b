"""The gateway's FastAPI application, built on demand."""

from __future__ import annotations

from fastapi import FastAPI

from ironclaw.contracts.kit.errors import install_error_handling
from ironclaw.contracts.kit.health import health_router
from ironclaw.gateway.config import Settings
from ironclaw.gateway.readiness import readiness_checks


def create_app(settings: Settings | None = None) -> FastAPI:
    """The public API: `/health`, `/ready` (ledger and broker); the user routes join here."""
    settings = settings or Settings()
    app = FastAPI(title="IronClaw gateway")
    app.state.settings = settings
    install_error_handling(app)
    app.include_router(health_router(settings.service_name, readiness_checks(settings)))
    return app
