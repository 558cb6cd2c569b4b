"""`ironclaw-sentinel`: its help, and `patrol` running as a real process."""

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

from ironclaw.sentinel.cli import create_cli

SCRIPT = Path(sys.executable).with_name("ironclaw-sentinel")

COMMANDS = ("patrol",)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def start(*args: str, **env: str) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "IRONCLAW_HTTP_HOST": "127.0.0.1", **env}
    return subprocess.Popen(
        [SCRIPT, *args], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def wait_for_health(port: int, process: subprocess.Popen[bytes], deadline_s: float) -> str:
    """Poll `/health` until it answers; returns the service name it reports."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1].decode()
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        assert response.status_code == 200
        service: str = response.json()["service"]
        return service
    raise AssertionError(f"/health on port {port} did not answer within {deadline_s}s")


def stop(process: subprocess.Popen[bytes]) -> str:
    """SIGTERM, then the process's stderr once it has exited."""
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    return stderr.decode()


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(create_cli(), ["--help"])

    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


def test_patrol_logs_idle_rounds_answers_health_and_stops_on_sigterm() -> None:
    port = free_port()
    process = start("patrol", IRONCLAW_HTTP_PORT=str(port), IRONCLAW_PATROL_INTERVAL_S="0.05")
    try:
        assert wait_for_health(port, process, deadline_s=30) == "sentinel"
    finally:
        stderr = stop(process)

    assert process.returncode == 0, stderr
    assert '"event": "sentinel.patrol.idle"' in stderr
