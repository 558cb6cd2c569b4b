"""`/health` (the process is alive) and `/ready` (its dependencies answer), for every service."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from ironclaw.contracts.kit.errors import install_error_handling

ReadinessCheck = Callable[[], None]
"""Raises when the dependency is not usable; its message becomes the reason."""


def health_router(service: str, checks: Mapping[str, ReadinessCheck] | None = None) -> APIRouter:
    router = APIRouter(tags=["health"])
    readiness = dict(checks or {})

    @router.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get("/ready")
    def ready() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in readiness.items():
            try:
                check()
                results[name] = "ok"
            except Exception as error:  # any failure means not ready; the reason is reported
                results[name] = f"error: {error}"
        healthy = all(value == "ok" for value in results.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "service": service, "checks": results},
            status_code=200 if healthy else 503,
        )

    return router


def health_app(
    title: str, service: str, checks: Mapping[str, ReadinessCheck] | None = None
) -> FastAPI:
    """A service's app: the fleet's error handling, `/health` and `/ready`; its routes join it."""
    app = FastAPI(title=title)
    install_error_handling(app)
    app.include_router(health_router(service, checks))
    return app
