"""What the routes are given: the gateway's clients and stores, and the caller they serve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.ids import new_id
from ironclaw.gateway.adapters.idempotency import IdempotencyStore, idempotency_store
from ironclaw.gateway.adapters.rate_limits import RateLimiter
from ironclaw.gateway.config import Settings
from ironclaw.gateway.domain.callers import ApiKeys, Caller


@dataclass
class Gateway:
    """The gateway's long-lived parts, built once per app and closed when it stops."""

    settings: Settings
    ledger: LedgerClient
    vault: VaultClient
    api_keys: ApiKeys
    rate_limiter: RateLimiter | None
    replies: IdempotencyStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Gateway:
        """Clients and stores for `settings`; nothing connects until first used."""
        return cls(
            settings=settings,
            ledger=LedgerClient(
                settings.ledger_url,
                token=settings.internal_token,
                timeout_s=settings.dependency_timeout_s,
                retry_for_s=settings.dependency_retry_s,
            ),
            vault=VaultClient(
                settings.vault_url,
                token=settings.internal_token,
                timeout_s=settings.vault_timeout_s,
                retry_for_s=settings.dependency_retry_s,
            ),
            api_keys=ApiKeys(settings.api_key_list),
            rate_limiter=(
                RateLimiter(settings.rate_limit, settings.redis_url)
                if settings.rate_limit
                else None
            ),
            replies=idempotency_store(settings.redis_url),
        )

    def close(self) -> None:
        self.ledger.close()
        self.vault.close()
        self.replies.close()


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def request_id(request: Request) -> str:
    """The id the request-id middleware gave this request (a fresh one outside it)."""
    return getattr(request.state, "request_id", None) or new_id("req")


def authorize(request: Request, gateway: GatewayDep) -> Caller:
    """The caller of a protected route: 401 without a valid API key, 429 over its rate limit."""
    client = request.client.host if request.client else None
    caller = gateway.api_keys.caller_for(request.headers.get("authorization"), client)
    if caller is None:
        detail = (
            "this endpoint needs Authorization: Bearer <API key>"
            if "authorization" not in request.headers
            else "the API key presented is not valid"
        )
        raise HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})
    if gateway.rate_limiter is not None:
        retry_after = gateway.rate_limiter.hit(caller.name)
        if retry_after is not None:
            raise HTTPException(
                429,
                f"rate limit of {gateway.rate_limiter.limit} exceeded; retry in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
    return caller


CallerDep = Annotated[Caller, Depends(authorize)]
