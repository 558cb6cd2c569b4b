"""The HTTP side of the sentinel patrol process: health only."""

from __future__ import annotations

from fastapi import FastAPI

from ironclaw.contracts.kit.health import health_app
from ironclaw.sentinel.config import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """`/health` and `/ready` for the patrol process."""
    settings = settings or Settings()
    return health_app("IronClaw sentinel", settings.service_name)
