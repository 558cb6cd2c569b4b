"""The gateway's readiness against real local servers, and its request ids.

Health, settings and the default port, which every service shares, are checked in
tests/contract/test_service_apps.py.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from ironclaw.gateway.app import create_app
from ironclaw.gateway.config import Settings


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class _LedgerHealth(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/health" else 404
        body = json.dumps({"status": "ok", "service": "ledger"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


class _RedisPong(socketserver.StreamRequestHandler):
    """Speaks just enough RESP: reads one command array, answers `+PONG` (or `+OK` to AUTH)."""

    def handle(self) -> None:
        while header := self.rfile.readline():
            arguments = []
            for _ in range(int(header[1:])):
                self.rfile.readline()
                arguments.append(self.rfile.readline().strip())
            self.server.commands.append(arguments)  # type: ignore[attr-defined]
            self.wfile.write(b"+OK\r\n" if arguments[0] == b"AUTH" else b"+PONG\r\n")


@pytest.fixture
def ledger_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LedgerHealth)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def redis_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _RedisPong)
    server.daemon_threads = True
    server.commands = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client_for(**overrides: object) -> TestClient:
    return TestClient(create_app(Settings(**overrides)))  # type: ignore[arg-type]


def test_ready_is_503_with_a_reason_when_the_ledger_port_is_closed() -> None:
    url = f"http://127.0.0.1:{closed_port()}"

    response = client_for(ledger_url=url, broker_url=None, ready_timeout_s=0.5).get("/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["ledger"].startswith("error: ")
    assert url in body["checks"]["ledger"]


def test_ready_is_200_when_the_ledger_answers(ledger_url: str) -> None:
    response = client_for(ledger_url=ledger_url, broker_url=None).get("/ready")

    assert response.status_code == 200
    assert response.json()["checks"] == {"ledger": "ok"}


def test_ready_pings_a_redis_broker(
    ledger_url: str, redis_server: socketserver.ThreadingTCPServer
) -> None:
    port = redis_server.server_address[1]
    broker_url = f"redis://:s3cret@127.0.0.1:{port}/0"

    response = client_for(ledger_url=ledger_url, broker_url=broker_url).get("/ready")

    assert response.status_code == 200
    assert response.json()["checks"] == {"ledger": "ok", "broker": "ok"}
    assert redis_server.commands == [[b"AUTH", b"s3cret"], [b"PING"]]  # type: ignore[attr-defined]


def test_ready_is_503_when_the_redis_broker_is_down(ledger_url: str) -> None:
    broker_url = f"redis://127.0.0.1:{closed_port()}/0"

    response = client_for(ledger_url=ledger_url, broker_url=broker_url, ready_timeout_s=0.5).get(
        "/ready"
    )

    assert response.status_code == 503
    assert response.json()["checks"]["ledger"] == "ok"
    assert response.json()["checks"]["broker"].startswith("error: broker at 127.0.0.1:")


def test_a_non_redis_broker_is_not_checked(ledger_url: str) -> None:
    response = client_for(ledger_url=ledger_url, broker_url="memory://").get("/ready")

    assert response.json()["checks"] == {"ledger": "ok"}


@pytest.mark.parametrize("path", ["/health", "/ready", "/no-such-route"])
def test_every_response_carries_a_request_id(path: str) -> None:
    client = client_for(ledger_url=f"http://127.0.0.1:{closed_port()}", ready_timeout_s=0.5)

    response = client.get(path)

    assert response.headers["X-Request-Id"].startswith("req_")


def test_a_callers_request_id_is_echoed() -> None:
    response = client_for().get("/health", headers={"X-Request-Id": "req_from_caller"})

    assert response.headers["X-Request-Id"] == "req_from_caller"
