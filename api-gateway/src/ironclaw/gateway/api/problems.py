"""How failures of the services behind the gateway reach a caller: problems, never bare 500s."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ironclaw.contracts.clients.ledger import LedgerConflict, LedgerError, LedgerNotFound
from ironclaw.contracts.clients.vault import VaultError
from ironclaw.contracts.kit.errors import (
    Conflict,
    NotFound,
    ServiceError,
    Unprocessable,
    problem,
)
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.gateway.config import Settings
from ironclaw.gateway.errors import problem_for_dependency, unreachable


def install_dependency_problems(app: FastAPI, settings: Settings) -> None:
    """Map ledger, vault, transport and Redis errors to problem+json answers."""

    @app.exception_handler(LedgerError)
    async def _ledger_error(request: Request, error: LedgerError) -> JSONResponse:
        return _render(ledger_problem(settings, error))

    @app.exception_handler(VaultError)
    async def _vault_error(request: Request, error: VaultError) -> JSONResponse:
        return _render(vault_problem(settings, error))

    @app.exception_handler(httpx.TransportError)
    async def _transport_error(request: Request, error: httpx.TransportError) -> JSONResponse:
        name, url = _dependency_of(settings, error)
        return _render(unreachable(name, url, error))

    @app.exception_handler(redis.RedisError)
    async def _redis_error(request: Request, error: redis.RedisError) -> JSONResponse:
        address = urlsplit(settings.redis_url or "").netloc.rpartition("@")[2]
        return _render(unreachable("Redis", f"redis://{address}", error))


def ledger_problem(settings: Settings, error: LedgerError) -> ServiceError:
    """A ledger answer the domain did not handle itself."""
    if isinstance(error, LedgerNotFound):
        return NotFound(error.detail)
    if isinstance(error, LedgerConflict) or error.status in (409, 422):
        return Conflict(f"the ledger refused the change: {error.detail}")
    return problem_for_dependency("ledger", settings.ledger_url, error.status, error.detail)


def vault_problem(settings: Settings, error: VaultError) -> ServiceError:
    """A vault answer, passed on where it is about the caller's request."""
    if error.status == 404:
        return NotFound(error.detail)
    if error.status == 409:
        return Conflict(error.detail)
    if error.status in (400, 422):
        return Unprocessable(error.detail)
    return problem_for_dependency("vault", settings.vault_url, error.status, error.detail)


def _dependency_of(settings: Settings, error: httpx.TransportError) -> tuple[str, str]:
    try:
        failed = error.request.url
    except RuntimeError:  # an error raised before any request was attached
        return "ledger or vault", f"{settings.ledger_url} / {settings.vault_url}"
    for name, url in (("ledger", settings.ledger_url), ("vault", settings.vault_url)):
        if urlsplit(url).netloc == failed.netloc.decode():
            return name, url
    return "service", f"{failed.scheme}://{failed.netloc.decode()}"


def _render(error: ServiceError) -> JSONResponse:
    if error.status >= 500:
        get_logger().warning("gateway.dependency.failed", status=error.status, detail=error.detail)
    return problem(error.status, error.title, error.detail)
