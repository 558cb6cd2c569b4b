"""`Idempotency-Key` on POSTs: a repeated key gets the first reply, and the work runs once.

Keys are counted per caller (API key), so two callers never see each other's replies. The key is
reserved before the work starts: a concurrent duplicate waits for the first request's reply
(up to `IRONCLAW_IDEMPOTENCY_WAIT_S`, then `409`). Only successful replies are kept; a request
that failed frees its key, so it can be retried with the same key. Reusing a key for a different
request (method, path or body) is refused with `422`.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

import anyio
from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ironclaw.contracts.kit.errors import Unprocessable
from ironclaw.gateway.adapters.idempotency import IdempotencyRecord, IdempotencyStore, StoredReply
from ironclaw.gateway.api.deps import CallerDep, GatewayDep
from ironclaw.gateway.errors import IdempotencyMismatch

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
MAX_KEY_LENGTH: Final = 255
PENDING_TTL_S: Final = 300.0
"""How long a reservation outlives a request that died mid-way (longer than any request)."""
_POLL_S: Final = 0.05


@dataclass(frozen=True)
class Reply:
    """A route's answer, in a form that can be kept and sent again."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, *, replayed: bool = False) -> JSONResponse:
        headers = {**self.headers, **({REPLAYED_HEADER: "true"} if replayed else {})}
        return JSONResponse(self.body, status_code=self.status, headers=headers)


Work = Callable[[], Awaitable[Reply]]


@dataclass(frozen=True)
class Once:
    """Runs a POST's work at most once per idempotency key (every time without a key)."""

    store: IdempotencyStore
    key: str | None
    fingerprint: str
    ttl_s: float
    wait_s: float

    async def run(self, work: Work) -> JSONResponse:
        if self.key is None:
            return (await work()).response()
        token = uuid.uuid4().hex
        held = await self._reserve(IdempotencyRecord(self.fingerprint, token))
        if held is not None:
            return held.response(replayed=True)
        try:
            reply = await work()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self.store.release, self.key, token)
            raise
        if reply.status < 400:
            done = IdempotencyRecord(self.fingerprint, token, StoredReply(**vars(reply)))
            await run_in_threadpool(self.store.complete, self.key, done, self.ttl_s)
        else:
            await run_in_threadpool(self.store.release, self.key, token)
        return reply.response()

    async def _reserve(self, record: IdempotencyRecord) -> Reply | None:
        """None once the key is ours; the first reply when another request already has one."""
        assert self.key is not None
        deadline = time.monotonic() + self.wait_s
        while True:
            held = await run_in_threadpool(self.store.reserve, self.key, record, PENDING_TTL_S)
            if held is None:
                return None
            if held.fingerprint != self.fingerprint:
                raise IdempotencyMismatch(
                    f"this {HEADER} was already used for a different request; use a new key"
                )
            if held.reply is not None:
                return Reply(held.reply.status, held.reply.body, dict(held.reply.headers))
            if time.monotonic() >= deadline:
                raise HTTPException(
                    409,
                    f"a request with this {HEADER} is still being processed; retry later",
                    headers={"Retry-After": "1"},
                )
            await anyio.sleep(_POLL_S)


async def once_per_key(request: Request, caller: CallerDep, gateway: GatewayDep) -> Once:
    """The `Once` of a POST: keyed by the caller and its `Idempotency-Key`, if it sent one."""
    key = request.headers.get(HEADER)
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()):
        raise Unprocessable(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters")
    scoped, fingerprint = None, ""
    if key is not None:
        scoped = f"{caller.name}:{hashlib.sha256(key.encode()).hexdigest()}"
        body = _canonical(await request.body())
        fingerprint = hashlib.sha256(
            b"\n".join([request.method.encode(), request.url.path.encode(), body])
        ).hexdigest()
    settings = gateway.settings
    return Once(
        store=gateway.replies,
        key=scoped,
        fingerprint=fingerprint,
        ttl_s=settings.idempotency_ttl_s,
        wait_s=settings.idempotency_wait_s,
    )


def _canonical(body: bytes) -> bytes:
    """A JSON body with its keys sorted and spacing dropped, so a re-encoded retry matches."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return body


OnceDep = Annotated[Once, Depends(once_per_key)]
