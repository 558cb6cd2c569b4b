from __future__ import annotations

import re

import structlog
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from ironclaw.contracts.kit.errors import (
    PROBLEM_JSON,
    REQUEST_ID_HEADER,
    Conflict,
    NotFound,
    ServiceError,
    install_error_handling,
)

REQUEST_ID = re.compile(r"req_[0-9a-z]{26}")


class TheaterMissing(NotFound):
    title = "Theater not found"


class LedgerUnavailable(ServiceError):
    status = 503
    title = "Ledger unavailable"


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handling(app)

    @app.get("/theaters/{name}")
    def theater(name: str) -> dict[str, str]:
        raise TheaterMissing(f"no theater named {name!r}")

    @app.get("/ledger")
    def ledger() -> dict[str, str]:
        raise LedgerUnavailable("the ledger did not answer in 5 s")

    @app.post("/streams/{stream_id}")
    def conflict(stream_id: str) -> dict[str, str]:
        raise Conflict("stream moved", stream_id=stream_id, actual_version=4)

    @app.get("/teapot")
    def teapot() -> dict[str, str]:
        raise HTTPException(status_code=418, detail="short and stout", headers={"X-Tea": "yes"})

    @app.get("/ok")
    def ok() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/boom")
    def boom() -> dict[str, str]:
        raise RuntimeError("password=hunter2 leaked from a connection string")

    return app


def _client() -> TestClient:
    return TestClient(_app(), raise_server_exceptions=False)


def test_service_error_subclass_renders_problem_json() -> None:
    response = _client().get("/theaters/web")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "about:blank",
        "title": "Theater not found",
        "status": 404,
        "detail": "no theater named 'web'",
    }


def test_service_error_with_its_own_status() -> None:
    response = _client().get("/ledger")

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert (body["status"], body["title"]) == (503, "Ledger unavailable")
    assert body["detail"] == "the ledger did not answer in 5 s"


def test_service_error_extra_fields_are_rendered() -> None:
    response = _client().post("/streams/run_x")

    assert response.status_code == 409
    body = response.json()
    assert body["title"] == "Conflict"
    assert (body["stream_id"], body["actual_version"]) == ("run_x", 4)


def test_unknown_route_is_problem_json() -> None:
    response = _client().get("/no/such/route")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert (body["status"], body["title"], body["type"]) == (404, "Not Found", "about:blank")


def test_wrong_method_is_problem_json_and_keeps_allow_header() -> None:
    response = _client().delete("/ok")

    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["title"] == "Method Not Allowed"
    assert response.headers["allow"] == "GET"


def test_http_exception_keeps_detail_and_headers() -> None:
    response = _client().get("/teapot")

    assert response.status_code == 418
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["x-tea"] == "yes"
    assert response.json()["detail"] == "short and stout"


def test_validation_errors_keep_fastapis_body() -> None:
    response = _client().get("/items/not-a-number")

    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert REQUEST_ID_HEADER in response.headers


def test_request_id_is_echoed_when_sent() -> None:
    client = _client()

    for path in ("/ok", "/theaters/web", "/no/such/route"):
        response = client.get(path, headers={REQUEST_ID_HEADER: "trace-abc-123"})
        assert response.headers[REQUEST_ID_HEADER] == "trace-abc-123", path


def test_request_id_is_generated_otherwise() -> None:
    client = _client()

    first = client.get("/ok").headers[REQUEST_ID_HEADER]
    second = client.get("/theaters/web").headers[REQUEST_ID_HEADER]

    assert REQUEST_ID.fullmatch(first)
    assert REQUEST_ID.fullmatch(second)
    assert first != second


def test_unexpected_error_is_a_500_problem_without_the_message() -> None:
    with structlog.testing.capture_logs():  # keeps the traceback out of the test output
        response = _client().get("/boom")

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert (body["status"], body["title"]) == (500, "Internal error")
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


def test_unexpected_error_response_still_carries_the_request_id() -> None:
    client = _client()

    with structlog.testing.capture_logs():
        echoed = client.get("/boom", headers={REQUEST_ID_HEADER: "trace-500"})
        generated = client.get("/boom")

    assert echoed.headers[REQUEST_ID_HEADER] == "trace-500"
    assert REQUEST_ID.fullmatch(generated.headers[REQUEST_ID_HEADER])


def test_unexpected_error_is_logged_with_the_request_id() -> None:
    with structlog.testing.capture_logs() as logs:
        response = _client().get("/boom", headers={REQUEST_ID_HEADER: "trace-log"})

    [entry] = [e for e in logs if e["event"] == "http.unhandled_error"]
    assert entry["request_id"] == "trace-log" == response.headers[REQUEST_ID_HEADER]
    assert entry["path"] == "/boom"
    assert entry["log_level"] == "error"
