"""One error base per service, rendered as `application/problem+json`; every response gets an id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ironclaw.contracts.ids import new_id

PROBLEM_JSON = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-Id"


class ServiceError(Exception):
    """Base of the errors a service raises on purpose; `status` is the HTTP status it maps to."""

    status: int = 500
    title: str = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(ServiceError):
    status = 404
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    title = "Conflict"


class Unprocessable(ServiceError):
    status = 422
    title = "Unprocessable"


class Unauthorized(ServiceError):
    status = 401
    title = "Unauthorized"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_error_handling(app: FastAPI) -> None:
    """Render service errors and HTTP errors as problem+json and tag every response with an id."""

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, error: ServiceError) -> JSONResponse:
        return problem(error.status, error.title, error.detail, **error.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        response = problem(error.status_code, _title(error.status_code), str(error.detail))
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # Runs outside the request-id middleware (Starlette's outermost error middleware), so the
        # id is taken from the request state that middleware stored, to tag both log and response.
        request_id = getattr(request.state, "request_id", None) or new_id("req")
        structlog.get_logger().exception(
            "http.unhandled_error", path=request.url.path, request_id=request_id
        )
        detail = "an unexpected error occurred; see the service log"
        response = problem(500, "Internal error", detail)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response

    @app.middleware("http")
    async def _request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get(REQUEST_ID_HEADER) or new_id("req")
        request.state.request_id = request_id
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            response = await call_next(request)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
