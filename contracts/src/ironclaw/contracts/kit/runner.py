"""How a service process runs: a health server beside its work, a Celery worker, a patrol loop."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

import uvicorn
from celery import Celery
from celery.signals import worker_ready
from fastapi import FastAPI

from ironclaw.contracts.kit.logging import get_logger


def serve_in_background(app: FastAPI, host: str, port: int) -> threading.Thread:
    """Serve `app` from a daemon thread, so a process busy with other work still answers."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    thread = threading.Thread(target=uvicorn.Server(config).run, name="health-http", daemon=True)
    thread.start()
    return thread


def serve_once_consuming(app: FastAPI, host: str, port: int) -> Callable[..., None]:
    """Serve `app` once the Celery worker consumes its queue, so /health means "consuming".

    Returns the receiver connected to Celery's `worker_ready`, for a caller that disconnects it.
    """

    def start(sender: object, **details: object) -> None:
        serve_in_background(app, host, port)

    worker_ready.connect(start, weak=False)
    return start


def run_celery_worker(
    celery: Celery, *, queue: str, service_name: str, log_level: str, concurrency: int | None
) -> None:
    """Run `celery`'s worker on `queue` in this process until SIGTERM (a warm shutdown) ends it."""
    argv = [
        "worker",
        f"--queues={queue}",
        f"--hostname={service_name}@%h",
        f"--loglevel={log_level}",
    ]
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    celery.worker_main(argv)


def stop_on_signals(stop: threading.Event) -> None:
    """Turn SIGTERM and SIGINT into a stop request, so a loop ends between rounds."""

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)


def run_patrol(
    name: str,
    interval_s: float,
    stop: threading.Event,
    round: Callable[[int], None] | None = None,
) -> int:
    """Run a round, then wait `interval_s`, until `stop` is set; returns how many rounds ran.

    `round` gets the round's number, from 1. Without it a round only logs `<name>.patrol.idle`:
    the placeholder of a patrol still to be written. A round that raises ends the patrol.
    """
    log = get_logger()
    rounds = 0
    while True:
        rounds += 1
        if round is None:
            log.info(f"{name}.patrol.idle", round=rounds, interval_s=interval_s)
        else:
            round(rounds)
        if stop.wait(interval_s):
            return rounds
