"""The ledger client against a real local HTTP server that speaks the ledger's protocol."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from ironclaw.contracts.api import AppendRequest, VersionConflict
from ironclaw.contracts.clients.ledger import (
    LedgerClient,
    LedgerConflict,
    LedgerError,
    LedgerNotFound,
)
from ironclaw.contracts.events import NewEvent, OrderIssued, RunIntegrating, RunReceived
from ironclaw.contracts.ids import new_id

TOKEN = "ledger-t0ken"
StartLedger = Callable[..., str]
RUN_ID = new_id("run")


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeLedger:
    """An in-memory ledger: appends with optimistic concurrency and idempotent event ids."""

    token: str | None = None
    received: list[Received] = field(default_factory=list)
    streams: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    by_event_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    drop_before_answer: int = 0  # close the next N connections without reading further
    drop_after_write: int = 0  # write the next N appends, then close without answering
    health_status: int = 200
    refuse_appends: dict[str, Any] | None = None  # a 409 problem that is not a version conflict
    listening_since: float | None = None  # time.monotonic() when the server began to listen
    lock: threading.Lock = field(default_factory=threading.Lock)

    def append(self, request: AppendRequest) -> tuple[int, dict[str, Any]]:
        if self.refuse_appends is not None:
            return 409, self.refuse_appends
        stored = [self.by_event_id.get(event.id) for event in request.events]
        if all(stored):
            stream = self.streams[request.stream_id]
            return 200, {
                "stream_id": request.stream_id,
                "version": len(stream),
                "events": stored,
                "duplicate": True,
            }
        stream = self.streams.setdefault(request.stream_id, [])
        if request.expected_version is not None and request.expected_version != len(stream):
            return 409, {
                "type": "about:blank",
                "title": "Conflict",
                "status": 409,
                "detail": f"stream {request.stream_id} is at version {len(stream)}",
                "stream_id": request.stream_id,
                "expected_version": request.expected_version,
                "actual_version": len(stream),
            }
        written = []
        for event in request.events:
            record = {
                **event.model_dump(mode="json"),
                "stream_id": request.stream_id,
                "version": len(stream) + 1,
                "position": len(self.by_event_id) + 1,
                "recorded_at": datetime.now(UTC).isoformat(),
            }
            stream.append(record)
            self.by_event_id[event.id] = record
            written.append(record)
        return 200, {
            "stream_id": request.stream_id,
            "version": len(stream),
            "events": written,
            "duplicate": False,
        }


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail}


def _handler_for(ledger: FakeLedger) -> type[BaseHTTPRequestHandler]:
    class LedgerHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with ledger.lock:
                ledger.received.append(
                    Received(
                        method=method,
                        path=url.path,
                        query=parse_qs(url.query),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=json.loads(raw) if raw else None,
                    )
                )
                if ledger.drop_before_answer:
                    ledger.drop_before_answer -= 1
                    self.close_connection = True
                    return
                status, body, content_type = self._route(method, url.path, raw)
                if method == "POST" and ledger.drop_after_write:
                    ledger.drop_after_write -= 1
                    self.close_connection = True
                    return
            self._reply(status, body, content_type)

        def _route(self, method: str, path: str, raw: bytes) -> tuple[int, Any, str]:
            problem_json = "application/problem+json"
            if ledger.token and self.headers.get("Authorization") != f"Bearer {ledger.token}":
                return 401, _problem(401, "Unauthorized", "bearer needed"), problem_json
            if (method, path) == ("GET", "/health"):
                if ledger.health_status != 200:
                    problem = _problem(ledger.health_status, "Unavailable", "database down")
                    return ledger.health_status, problem, problem_json
                return 200, {"status": "ok"}, "application/json"
            if (method, path) == ("POST", "/events"):
                status, body = ledger.append(AppendRequest.model_validate_json(raw))
                return status, body, problem_json if status >= 400 else "application/json"
            if method == "GET" and path.startswith("/streams/"):
                stream_id = path.removeprefix("/streams/")
                events = ledger.streams.get(stream_id, [])
                page = {"stream_id": stream_id, "version": len(events), "events": events}
                return 200, page, "application/json"
            if method == "GET" and path.startswith("/runs/"):
                run_id = path.removeprefix("/runs/")
                return 404, _problem(404, "Not found", f"no run {run_id!r}"), problem_json
            return 404, _problem(404, "Not Found", "no such route"), problem_json

        def _reply(self, status: int, body: Any, content_type: str) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return LedgerHandler


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # Skip HTTPServer's reverse DNS lookup of the host name: not needed, sometimes slow.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


@pytest.fixture
def serve() -> Iterator[StartLedger]:
    """Start a fake ledger on a free port; `listen_after_s` delays listening (bound, refusing)."""
    started: list[tuple[Server, threading.Thread]] = []

    def start(ledger: FakeLedger, *, listen_after_s: float = 0.0) -> str:
        server = Server(("127.0.0.1", 0), _handler_for(ledger), bind_and_activate=False)
        server.server_bind()

        def run() -> None:
            if listen_after_s:
                time.sleep(listen_after_s)  # the scenario: a ledger that is still starting
                server.server_activate()
                ledger.listening_since = time.monotonic()
            server.serve_forever(poll_interval=0.05)

        if not listen_after_s:
            server.server_activate()
            ledger.listening_since = time.monotonic()
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        started.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _client(url: str, **kwargs: Any) -> LedgerClient:
    kwargs.setdefault("token", TOKEN)
    kwargs.setdefault("timeout_s", 2.0)
    kwargs.setdefault("retry_for_s", 3.0)
    return LedgerClient(url, **kwargs)


def test_append_sends_the_bearer_and_parses_the_result(serve: StartLedger) -> None:
    ledger = FakeLedger(token=TOKEN)
    payload = RunReceived(run_id=RUN_ID, theater="default", message="hello")

    with _client(serve(ledger)) as client:
        result = client.append(RUN_ID, [payload, RunIntegrating(run_id=RUN_ID)], expected_version=0)

    [request] = ledger.received
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert (request.method, request.path) == ("POST", "/events")
    sent = AppendRequest.model_validate(request.body)
    assert (sent.stream_id, sent.expected_version) == (RUN_ID, 0)
    assert [event.type for event in sent.events] == ["RunReceived", "RunIntegrating"]

    assert (result.stream_id, result.version, result.duplicate) == (RUN_ID, 2, False)
    assert [event.version for event in result.events] == [1, 2]
    assert [event.id for event in result.events] == [event.id for event in sent.events]
    assert result.events[0].stream_id == RUN_ID
    assert result.events[0].payload() == payload


def test_append_accepts_prepared_events_with_their_ids(serve: StartLedger) -> None:
    ledger = FakeLedger()
    event = NewEvent.of(RunIntegrating(run_id=RUN_ID))

    with _client(serve(ledger), token=None) as client:
        result = client.append(RUN_ID, [event], expected_version=None)

    assert "authorization" not in ledger.received[0].headers
    assert result.events[0].id == event.id


def test_secret_str_token_is_sent(serve: StartLedger) -> None:
    ledger = FakeLedger(token=TOKEN)

    with _client(serve(ledger), token=SecretStr(TOKEN)) as client:
        client.health()

    assert ledger.received[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_wrong_token_is_a_ledger_error_with_the_status(serve: StartLedger) -> None:
    ledger = FakeLedger(token=TOKEN)

    with _client(serve(ledger), token="wrong") as client, pytest.raises(LedgerError) as raised:
        client.health()

    assert raised.value.status == 401
    assert len(ledger.received) == 1


def test_conflict_raises_with_the_actual_version(serve: StartLedger) -> None:
    ledger = FakeLedger(token=TOKEN)
    url = serve(ledger)
    with _client(url) as client:
        client.append(RUN_ID, [RunIntegrating(run_id=RUN_ID)] * 3, expected_version=0)

        with pytest.raises(LedgerConflict) as raised:
            client.append(RUN_ID, [RunIntegrating(run_id=RUN_ID)], expected_version=1)

    error = raised.value
    assert isinstance(error, LedgerError)
    assert error.status == 409
    assert isinstance(error.conflict, VersionConflict)
    assert (error.conflict.expected_version, error.conflict.actual_version) == (1, 3)
    assert error.conflict.stream_id == RUN_ID
    assert "version 3" in error.detail
    assert len(ledger.streams[RUN_ID]) == 3


def test_other_conflicts_are_ledger_errors_not_version_conflicts(serve: StartLedger) -> None:
    # The ledger also answers 409 for reasons that are not a version conflict (a unit reporting
    # on a stale attempt, an event id reused): the caller must still get a LedgerError.
    stale = _problem(409, "Stale attempt", "attempt 1 is no longer the order's current one")
    ledger = FakeLedger(token=TOKEN, refuse_appends=stale)

    with _client(serve(ledger)) as client, pytest.raises(LedgerError) as raised:
        client.append(RUN_ID, [RunIntegrating(run_id=RUN_ID)], expected_version=0)

    assert not isinstance(raised.value, LedgerConflict)
    assert raised.value.status == 409
    assert raised.value.detail == "attempt 1 is no longer the order's current one"


def test_missing_run_raises_not_found_with_the_detail(serve: StartLedger) -> None:
    ledger = FakeLedger(token=TOKEN)
    run_id = new_id("run")

    with _client(serve(ledger)) as client, pytest.raises(LedgerNotFound) as raised:
        client.get_run(run_id)

    assert raised.value.status == 404
    assert run_id in raised.value.detail
    assert [(r.method, r.path) for r in ledger.received] == [("GET", f"/runs/{run_id}")]


def test_read_stream_parses_the_page_and_sends_after_version(serve: StartLedger) -> None:
    ledger = FakeLedger(token=TOKEN)
    order_id = new_id("ord")
    issued = OrderIssued(order_id=order_id, run_id=RUN_ID, attempt=1)

    with _client(serve(ledger)) as client:
        client.append(order_id, [issued], expected_version=0)
        page = client.read_stream(order_id, after_version=0)

    assert (page.stream_id, page.version) == (order_id, 1)
    assert page.events[0].payload() == issued
    assert ledger.received[-1].query == {"after_version": ["0"]}


def test_http_errors_are_not_retried(serve: StartLedger) -> None:
    ledger = FakeLedger(token=TOKEN, health_status=503)

    with _client(serve(ledger)) as client, pytest.raises(LedgerError) as raised:
        client.health()

    assert raised.value.status == 503
    assert raised.value.detail == "database down"
    assert len(ledger.received) == 1


def test_retries_while_the_ledger_is_not_listening_yet(serve: StartLedger) -> None:
    ledger = FakeLedger(token=TOKEN)
    url = serve(ledger, listen_after_s=0.4)

    started = time.monotonic()
    with _client(url) as client:
        result = client.append(RUN_ID, [RunIntegrating(run_id=RUN_ID)], expected_version=0)

    # The call began while nothing listened, so its first connection was refused; a retry made
    # after the ledger started listening got through.
    assert ledger.listening_since is not None
    assert started < ledger.listening_since
    assert result.version == 1
    assert len(ledger.received) == 1


def test_retries_a_dropped_connection(serve: StartLedger) -> None:
    ledger = FakeLedger(token=TOKEN, drop_before_answer=1)

    with _client(serve(ledger)) as client:
        result = client.append(RUN_ID, [RunIntegrating(run_id=RUN_ID)], expected_version=0)

    first, second = ledger.received
    assert first.body == second.body
    assert result.version == 1
    assert len(ledger.streams[RUN_ID]) == 1


def test_retry_after_a_lost_answer_resends_the_same_event_ids(serve: StartLedger) -> None:
    # The ledger wrote the events but the answer never arrived: the resend must be recognised
    # as a duplicate, which only works when the client keeps the event ids it first sent.
    ledger = FakeLedger(token=TOKEN, drop_after_write=1)

    with _client(serve(ledger)) as client:
        result = client.append(RUN_ID, [RunIntegrating(run_id=RUN_ID)], expected_version=0)

    first, second = ledger.received
    assert [e["id"] for e in first.body["events"]] == [e["id"] for e in second.body["events"]]
    assert result.duplicate is True
    assert result.version == 1
    assert len(ledger.streams[RUN_ID]) == 1


def test_gives_up_after_retry_for_s() -> None:
    # A bound socket that never listens refuses every connection.
    with socket.socket() as never_listening:
        never_listening.bind(("127.0.0.1", 0))
        port = never_listening.getsockname()[1]

        started = time.monotonic()
        with (
            _client(f"http://127.0.0.1:{port}", retry_for_s=0.5) as client,
            pytest.raises(httpx.ConnectError),
        ):
            client.health()
        elapsed = time.monotonic() - started

    assert 0.5 <= elapsed < 5
