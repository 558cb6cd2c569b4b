"""The gateway's errors, and how failures of the services behind it become problems."""

from __future__ import annotations

from typing import Any

from ironclaw.contracts.api import Problem
from ironclaw.contracts.kit.errors import ServiceError


class DependencyUnavailable(ServiceError):
    """A service the gateway needs (ledger, vault, Redis) is down or refuses the gateway."""

    status = 503
    title = "Service unavailable"


class DependencyFailed(ServiceError):
    """A service the gateway needs answered in a way the gateway cannot pass on."""

    status = 502
    title = "Bad gateway"


class IdempotencyMismatch(ServiceError):
    """An `Idempotency-Key` reused for a different request."""

    status = 422
    title = "Idempotency-Key reused"


def problem_for_dependency(name: str, url: str, status: int, detail: str) -> ServiceError:
    """The problem a caller sees when `name` (at `url`) answered `status`: never a bare 500."""
    if status in (401, 403):
        return DependencyUnavailable(
            f"the {name} at {url} refused the gateway ({status}: {detail}); "
            "check IRONCLAW_INTERNAL_TOKEN"
        )
    if status >= 500:
        return DependencyUnavailable(f"the {name} at {url} failed ({status}): {detail}")
    return DependencyFailed(f"the {name} at {url} answered {status}: {detail}")


def unreachable(name: str, url: str, error: Exception) -> DependencyUnavailable:
    """The problem for a dependency that could not be reached at all."""
    return DependencyUnavailable(f"the {name} at {url} is unreachable: {_describe(error)}")


def _describe(error: Exception) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


OPENAPI_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in {
        401: "missing or invalid API key (when IRONCLAW_API_KEYS is set)",
        413: "request body over the size limit",
        429: "rate limit exceeded: retry after `Retry-After` seconds",
        503: "a service behind the gateway is unavailable",
    }.items()
}
"""Problems every protected route may answer, for the OpenAPI document."""
