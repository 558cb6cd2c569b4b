"""The public API speaks JSON: a JSON body sent without its content type is still read as JSON."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

JSON_ROUTES = ("/chat", "/runs", "/orders", "/theaters")
# `curl -d '{...}'` labels its body a form; a body that is no JSON still gets a clear 422.
UNLABELLED = {None, "", "application/x-www-form-urlencoded", "text/plain"}


class JsonBodiesMiddleware:
    """Labels the bodies of the JSON routes `application/json` when the client did not."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_json_route(scope):
            content_type = Headers(scope=scope).get("content-type")
            if (content_type or "").split(";")[0].strip().lower() in UNLABELLED:
                headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
                scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)


def _is_json_route(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] in {"POST", "PUT", "PATCH"} and path.startswith(JSON_ROUTES)
