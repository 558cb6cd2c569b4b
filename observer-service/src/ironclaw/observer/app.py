"""The HTTP side of the observer patrol process: health only."""

from __future__ import annotations

from fastapi import FastAPI

from ironclaw.contracts.kit.health import health_app
from ironclaw.observer.config import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """`/health` and `/ready` for the patrol process."""
    settings = settings or Settings()
    return health_app("IronClaw observer", settings.service_name)
