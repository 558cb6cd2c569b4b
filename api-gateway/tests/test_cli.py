"""`ironclaw-gateway`: its help, and `serve` answering /health as a real process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from ironclaw.gateway.cli import create_cli

SCRIPT = Path(sys.executable).with_name("ironclaw-gateway")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_for_health(
    url: str, process: subprocess.Popen[bytes], deadline_s: float
) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1].decode()
        try:
            return httpx.get(url, timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {deadline_s}s")


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(create_cli(), ["--help"])

    assert result.exit_code == 0
    assert "serve" in result.output


def test_serve_answers_health_and_stops_on_sigterm() -> None:
    port = free_port()
    env = {**os.environ, "IRONCLAW_HTTP_PORT": str(port), "IRONCLAW_HTTP_HOST": "127.0.0.1"}
    process = subprocess.Popen([SCRIPT, "serve"], env=env, stderr=subprocess.PIPE)
    try:
        response = wait_for_health(f"http://127.0.0.1:{port}/health", process, deadline_s=20)
        assert response.json()["service"] == "gateway"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode in (0, -signal.SIGTERM), "uvicorn re-raises the signal it handled"
