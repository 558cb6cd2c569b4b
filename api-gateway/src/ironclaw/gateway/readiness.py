"""The checks behind the gateway's `/ready`: the ledger answers, and so does a Redis broker."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.health import ReadinessCheck
from ironclaw.gateway.config import Settings

REDIS_SCHEMES = ("redis", "rediss")
_MAX_REPLY = 4096


def readiness_checks(settings: Settings) -> dict[str, ReadinessCheck]:
    """The ledger always; the broker when it is Redis (embedded transports need no check)."""
    checks: dict[str, ReadinessCheck] = {"ledger": lambda: check_ledger(settings)}
    broker_url = settings.broker_url
    if broker_url and urlsplit(broker_url).scheme in REDIS_SCHEMES:
        checks["broker"] = lambda: ping_redis(broker_url, timeout_s=settings.ready_timeout_s)
    return checks


def check_ledger(settings: Settings) -> None:
    """One `GET /health` on the ledger, without retries: readiness must answer quickly."""
    client = LedgerClient(
        settings.ledger_url,
        token=settings.internal_token,
        timeout_s=settings.ready_timeout_s,
        retry_for_s=0,
    )
    with client:
        try:
            client.health()
        except Exception as error:  # re-raised with the address, so /ready names what failed
            raise ConnectionError(f"ledger at {settings.ledger_url}: {error}") from error


def ping_redis(url: str, *, timeout_s: float) -> None:
    """Send `PING` (after `AUTH` when the URL has credentials) and demand a `+` reply to each."""
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 6379
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as raw:
            conn = raw
            if parts.scheme == "rediss":
                conn = ssl.create_default_context().wrap_socket(raw, server_hostname=host)
            for command in _redis_commands(parts.username, parts.password):
                conn.sendall(_encode_command(command))
                reply = _read_reply_line(conn)
                if not reply.startswith(b"+"):
                    raise ConnectionError(f"redis answered {reply!r} to {command[0]}")
    except OSError as error:
        raise ConnectionError(f"broker at {host}:{port}: {error}") from error


def _redis_commands(username: str | None, password: str | None) -> list[list[str]]:
    if not password:
        return [["PING"]]
    credentials = [unquote(username), unquote(password)] if username else [unquote(password)]
    return [["AUTH", *credentials], ["PING"]]


def _encode_command(arguments: Sequence[str]) -> bytes:
    encoded = [argument.encode() for argument in arguments]
    chunks = [f"*{len(encoded)}\r\n".encode()]
    for argument in encoded:
        chunks.append(f"${len(argument)}\r\n".encode() + argument + b"\r\n")
    return b"".join(chunks)


def _read_reply_line(conn: socket.socket) -> bytes:
    buffer = b""
    while not buffer.endswith(b"\r\n"):
        chunk = conn.recv(256)
        if not chunk:
            raise ConnectionError("redis closed the connection without a reply")
        buffer += chunk
        if len(buffer) > _MAX_REPLY:
            raise ConnectionError("redis reply too long for a PING")
    return buffer.rstrip(b"\r\n")
