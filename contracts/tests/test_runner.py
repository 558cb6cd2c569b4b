"""How a service process runs: the health server, Celery's worker, signals and the patrol loop."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from celery.signals import worker_ready
from fastapi import FastAPI
from structlog.testing import capture_logs

from ironclaw.contracts.kit.health import health_app
from ironclaw.contracts.kit.runner import (
    run_celery_worker,
    run_patrol,
    serve_in_background,
    serve_once_consuming,
    stop_on_signals,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def health_of(port: int, deadline_s: float = 10) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            try:
                return client.get(f"http://127.0.0.1:{port}/health")
            except httpx.TransportError:
                time.sleep(0.02)
    raise AssertionError(f"/health on port {port} did not answer within {deadline_s}s")


def probe_app() -> FastAPI:
    return health_app("probe", "probe")


# --- the health server ------------------------------------------------------------------------
# The servers these tests start run on daemon threads until the test process ends, as in a service.


def test_serve_in_background_answers_from_a_daemon_thread() -> None:
    port = free_port()

    thread = serve_in_background(probe_app(), "127.0.0.1", port)

    assert thread.daemon
    assert thread.name == "health-http"
    assert health_of(port).json() == {"status": "ok", "service": "probe"}


def test_serve_once_consuming_serves_only_once_the_worker_is_ready() -> None:
    port = free_port()
    receiver = serve_once_consuming(probe_app(), "127.0.0.1", port)
    try:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0)

        worker_ready.send(sender=None)

        assert health_of(port).json() == {"status": "ok", "service": "probe"}
    finally:
        worker_ready.disconnect(receiver)


# --- Celery's worker --------------------------------------------------------------------------


class RecordingCelery:
    """Stands in for a Celery app: records the argv its worker would have started with."""

    def __init__(self) -> None:
        self.argv: list[str] | None = None

    def worker_main(self, argv: list[str]) -> None:
        self.argv = argv


@pytest.mark.parametrize(
    ("concurrency", "extra"), [(None, []), (3, ["--concurrency=3"])], ids=["per-cpu", "three"]
)
def test_the_worker_consumes_only_its_queue_under_the_services_name(
    concurrency: int | None, extra: list[str]
) -> None:
    celery = RecordingCelery()

    run_celery_worker(
        celery, queue="co", service_name="co", log_level="DEBUG", concurrency=concurrency
    )

    assert celery.argv == ["worker", "--queues=co", "--hostname=co@%h", "--loglevel=DEBUG", *extra]


# --- signals ----------------------------------------------------------------------------------


@pytest.fixture
def restore_signal_handlers() -> Iterator[None]:
    """stop_on_signals replaces process-wide handlers: put the test process's back."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("restore_signal_handlers")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_and_sigint_become_a_stop_request(signum: signal.Signals) -> None:
    stop = threading.Event()
    stop_on_signals(stop)

    os.kill(os.getpid(), signum)

    assert stop.wait(timeout=5)


# --- the patrol loop --------------------------------------------------------------------------


def test_a_stopped_patrol_makes_one_round_and_returns() -> None:
    stop = threading.Event()
    stop.set()

    with capture_logs() as logs:
        rounds = run_patrol("observer", 60, stop)

    assert rounds == 1
    assert [entry["event"] for entry in logs] == ["observer.patrol.idle"]
    assert logs[0]["round"] == 1
    assert logs[0]["interval_s"] == 60


def test_the_patrol_repeats_every_interval_until_stopped() -> None:
    stop = threading.Event()
    result: list[int] = []
    with capture_logs() as logs:
        thread = threading.Thread(target=lambda: result.append(run_patrol("duty", 0.01, stop)))
        thread.start()
        deadline = time.monotonic() + 10
        while len(logs) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        thread.join(timeout=10)

    assert len(result) == 1
    assert result[0] >= 3
    assert {entry["event"] for entry in logs} == {"duty.patrol.idle"}


def test_a_patrol_with_a_round_runs_it_numbered_instead_of_idling() -> None:
    stop = threading.Event()
    seen: list[int] = []

    def round(number: int) -> None:
        seen.append(number)
        if number == 3:
            stop.set()

    with capture_logs() as logs:
        rounds = run_patrol("sentinel", 0.01, stop, round)

    assert rounds == 3
    assert seen == [1, 2, 3]
    assert logs == []


def test_a_round_that_raises_ends_the_patrol_with_its_error() -> None:
    def round(number: int) -> None:
        raise RuntimeError("ledger unreachable")

    with pytest.raises(RuntimeError, match="ledger unreachable"):
        run_patrol("sentinel", 0.01, threading.Event(), round)
