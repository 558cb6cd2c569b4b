"""The gateway's FastAPI application, built on demand."""

from __future__ import annotations

from fastapi import FastAPI

from ironclaw.contracts.kit.health import health_app
from ironclaw.gateway.config import Settings
from ironclaw.gateway.readiness import readiness_checks


def create_app(settings: Settings | None = None) -> FastAPI:
    """The public API: `/health`, `/ready` (ledger and broker); the user routes join here."""
    settings = settings or Settings()
    app = health_app("IronClaw gateway", settings.service_name, readiness_checks(settings))
    app.state.settings = settings
    return app
