"""Bearer-token guard for internal APIs: enforced only when `IRONCLAW_INTERNAL_TOKEN` is set."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Request
from pydantic import SecretStr

from ironclaw.contracts.kit.errors import Unauthorized


def internal_token_guard(token: SecretStr | None) -> Callable[[Request], None]:
    """A FastAPI dependency refusing calls without `Authorization: Bearer <token>`."""
    expected = token.get_secret_value().encode() if token else None

    def guard(request: Request) -> None:
        if expected is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.encode(), expected):
            raise Unauthorized("this internal API needs Authorization: Bearer <internal token>")

    return guard
