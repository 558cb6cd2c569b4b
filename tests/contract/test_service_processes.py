"""Every service's command line, run as the real process it is in production.

Each long-running command answers `/health` with its service's name and exits cleanly on SIGTERM;
each Celery worker refuses to start without a broker; each `--help` lists the commands.

The commands of all services run at once, each watched by a thread of its own: a Celery worker
takes seconds to start and to stop, and one after another they would take most of a minute. Each
test then judges one command's run. The workers use a Redis database of their own when the suite
has Redis (IRONCLAW_TEST_REDIS_URL, or Docker), else the in-memory broker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fleet_services import CONSUMERS, PATROLS, SERVICES, Service, service_id
from redis_claims import claimed_redis_database
from typer.testing import CliRunner

# uvicorn re-raises the signal it handled; a Celery worker and a patrol loop exit with 0.
CLEAN_EXIT = {"serve": (0, -signal.SIGTERM), "worker": (0,), "patrol": (0,)}


@dataclass(frozen=True)
class Run:
    """One command of one service, started with a broker or deliberately without."""

    service: Service
    command: str
    with_broker: bool = True

    @property
    def id(self) -> str:
        suffix = "" if self.with_broker else "-without-broker"
        return f"{self.service.name}-{self.command}{suffix}"


@dataclass(frozen=True)
class Outcome:
    """What a run showed: `/health`'s answer (None if none came), then how the process ended."""

    health: httpx.Response | None
    returncode: int
    stderr: str


LONG_RUNNING = tuple(Run(service, command) for service in SERVICES for command in service.commands)
REFUSING = tuple(Run(service, "worker", with_broker=False) for service in CONSUMERS)


def free_ports(count: int) -> list[int]:
    """Ports free now, and distinct: every probe stays bound until all are chosen."""
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def wait_for_health(
    port: int, process: subprocess.Popen[bytes], deadline_s: float
) -> httpx.Response | None:
    """Poll `/health` until it answers; None if the process ends or the deadline passes first."""
    deadline = time.monotonic() + deadline_s
    # One client for all the polls: each new one builds an SSL context, which costs real CPU.
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                return client.get(f"http://127.0.0.1:{port}/health")
            except httpx.TransportError:
                time.sleep(0.05)
    return None


def exercise(run: Run, *, port: int, broker_url: str, log: Path) -> Outcome:
    """Start the command, wait for `/health` or its end, SIGTERM it, and collect how it ended."""
    env = {
        **os.environ,
        "IRONCLAW_HTTP_HOST": "127.0.0.1",
        "IRONCLAW_HTTP_PORT": str(port),
        "IRONCLAW_INTERNAL_TOKEN": "s3cret",
        "IRONCLAW_PATROL_INTERVAL_S": "0.05",
        "IRONCLAW_BROKER_URL": broker_url,
    }
    arguments = [run.command]
    if run.command == "worker" and run.with_broker:
        arguments.append("--concurrency=1")
    else:
        env.pop("IRONCLAW_BROKER_URL")
    # A file, not a pipe: a process logging while nobody reads must never block on a full pipe.
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [run.service.script, *arguments], env=env, stdout=subprocess.DEVNULL, stderr=sink
        )
    try:
        health = wait_for_health(port, process, deadline_s=60)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return Outcome(health, process.returncode, log.read_text())


@pytest.fixture(scope="module")
def broker_url(redis_url: str | None) -> Iterator[str]:
    """A Redis database of this module's own when the suite has Redis, else the memory broker."""
    if redis_url is None:
        yield "memory://"
        return
    with claimed_redis_database(redis_url) as claimed:
        yield claimed or "memory://"


@pytest.fixture(scope="module")
def outcomes(broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[Run, Outcome]:
    """Every run of this module, all at once; each test judges one of them."""
    runs = LONG_RUNNING + REFUSING
    logs = tmp_path_factory.mktemp("service-logs")
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {
            run: pool.submit(
                exercise, run, port=port, broker_url=broker_url, log=logs / f"{run.id}.log"
            )
            for run, port in zip(runs, free_ports(len(runs)), strict=True)
        }
    return {run: future.result() for run, future in futures.items()}


@pytest.mark.parametrize("service", SERVICES, ids=service_id)
def test_help_lists_the_commands(service: Service) -> None:
    result = CliRunner().invoke(service.module("cli").create_cli(), ["--help"])

    assert result.exit_code == 0
    for command in service.commands:
        assert command in result.output


@pytest.mark.parametrize("run", LONG_RUNNING, ids=lambda run: run.id)
def test_the_command_answers_health_until_sigterm_ends_it_cleanly(
    run: Run, outcomes: dict[Run, Outcome]
) -> None:
    outcome = outcomes[run]

    assert outcome.health is not None, f"/health never answered:\n{outcome.stderr}"
    assert outcome.health.status_code == 200
    assert outcome.health.json() == {"status": "ok", "service": run.service.name}
    assert outcome.returncode in CLEAN_EXIT[run.command], outcome.stderr


@pytest.mark.parametrize("service", PATROLS, ids=service_id)
def test_the_patrol_logs_its_idle_rounds(service: Service, outcomes: dict[Run, Outcome]) -> None:
    stderr = outcomes[Run(service, "patrol")].stderr

    assert f'"event": "{service.name}.patrol.idle"' in stderr


@pytest.mark.parametrize("service", CONSUMERS, ids=service_id)
def test_the_worker_refuses_to_start_without_a_broker(
    service: Service, outcomes: dict[Run, Outcome]
) -> None:
    outcome = outcomes[Run(service, "worker", with_broker=False)]

    assert outcome.health is None
    assert outcome.returncode == 2
    assert "IRONCLAW_BROKER_URL is not set" in outcome.stderr
