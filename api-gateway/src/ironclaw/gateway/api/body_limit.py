"""Request bodies over `IRONCLAW_MAX_BODY_BYTES` get `413`, whether announced or streamed."""

from __future__ import annotations

import json
from http import HTTPStatus

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ironclaw.contracts.kit.errors import PROBLEM_JSON


class BodyLimitMiddleware:
    """Refuses a `Content-Length` over the limit before reading a byte; stops a longer stream.

    A streamed body (chunked, or longer than announced) fails the read that crosses the limit
    with an `HTTPException(413)`, which the app renders as problem+json. It must run inside the
    request-id middleware (added before it), whose task group would wrap that exception.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced = Headers(scope=scope).get("content-length")
        if announced is not None and announced.isdigit() and int(announced) > self.max_body_bytes:
            await self._refuse(send, f"{announced} bytes")
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, self._detail(f"over {self.max_body_bytes} bytes"))
            return message

        await self.app(scope, limited_receive, send)

    def _detail(self, size: str) -> str:
        return f"the request body ({size}) exceeds the limit of {self.max_body_bytes} bytes"

    async def _refuse(self, send: Send, size: str) -> None:
        problem = {
            "type": "about:blank",
            "title": HTTPStatus.REQUEST_ENTITY_TOO_LARGE.phrase,
            "status": 413,
            "detail": self._detail(size),
        }
        body = json.dumps(problem).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
