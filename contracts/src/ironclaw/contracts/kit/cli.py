"""The fleet's command lines: a Typer app per service, and the bodies of its commands.

A service runs `serve` (its HTTP API), `worker` (a Celery consumer of its queue) or `patrol` (a
loop), or more than one of them; its `cli.py` declares the commands and hands its settings and
factories to the functions here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Protocol, TypeVar

import typer
import uvicorn
from celery import Celery
from fastapi import FastAPI

from ironclaw.contracts.kit.logging import configure_logging, get_logger
from ironclaw.contracts.kit.runner import (
    run_celery_worker,
    run_patrol,
    serve_in_background,
    serve_once_consuming,
    stop_on_signals,
)
from ironclaw.contracts.kit.secrets import settings_secrets
from ironclaw.contracts.kit.settings import PatrolSettings, ServiceSettings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
PatrolSettingsT = TypeVar("PatrolSettingsT", bound=PatrolSettings)

Concurrency = Annotated[
    int | None, typer.Option(min=1, help="Worker processes (default: one per CPU).")
]
"""The `worker` command's `--concurrency` option."""


def service_cli(description: str) -> typer.Typer:
    """A service's command line, described by `description`; its commands are added to it."""
    # Tracebacks must not print local variables: the settings hold secrets.
    cli = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)

    # A callback keeps a lone command a subcommand (`ironclaw-co worker`, not `ironclaw-co`).
    @cli.callback(help=description)
    def root() -> None:
        """The service itself: no options of its own, its description as help."""

    return cli


def serve_http_api(settings: SettingsT, create_app: Callable[[SettingsT], FastAPI]) -> None:
    """Serve the service's API on IRONCLAW_HTTP_HOST:IRONCLAW_HTTP_PORT until SIGTERM."""
    _configure_logging(settings)
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None
    )


def consume_queue(
    settings: SettingsT,
    create_celery: Callable[[SettingsT], Celery],
    create_app: Callable[[SettingsT], FastAPI],
    *,
    queue: str,
    concurrency: int | None,
) -> None:
    """Run the service's Celery worker on `queue`, serving `create_app` once it consumes.

    Without a broker it says why on stderr and exits with status 2, before anything starts.
    """
    _configure_logging(settings)
    try:
        celery = create_celery(settings)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    serve_once_consuming(create_app(settings), settings.http_host, settings.http_port)
    run_celery_worker(
        celery,
        queue=queue,
        service_name=settings.service_name,
        log_level=settings.log_level,
        concurrency=concurrency,
    )


def patrol_until_stopped(
    settings: PatrolSettingsT, create_app: Callable[[PatrolSettingsT], FastAPI], *, name: str
) -> None:
    """Patrol every IRONCLAW_PATROL_INTERVAL_S until SIGTERM or SIGINT, serving `/health`."""
    _configure_logging(settings)
    stop = threading.Event()
    stop_on_signals(stop)
    serve_in_background(create_app(settings), settings.http_host, settings.http_port)
    run_patrol(name, settings.patrol_interval_s, stop)


class Watch(Protocol):
    """A patrol that holds a lease: one `round` per interval, `stand_down` when it stops."""

    def round(self, number: int) -> None: ...

    def stand_down(self) -> None: ...


def patrol_with_watch(
    settings: PatrolSettingsT,
    create_app: Callable[[PatrolSettingsT], FastAPI],
    create_watch: Callable[[PatrolSettingsT], Watch],
    *,
    name: str,
) -> None:
    """Run `create_watch`'s rounds every IRONCLAW_PATROL_INTERVAL_S until SIGTERM or SIGINT,
    serving `/health`, and give its lease up at the end.

    A watch that cannot be armed (`create_watch` raises `ValueError`, e.g. no broker) is said
    so as `<name>.patrol.unarmed`, and the process keeps only its idle heartbeat.
    """
    _configure_logging(settings)
    stop = threading.Event()
    stop_on_signals(stop)
    serve_in_background(create_app(settings), settings.http_host, settings.http_port)
    try:
        watch = create_watch(settings)
    except ValueError as error:
        get_logger().warning(f"{name}.patrol.unarmed", reason=str(error))
        run_patrol(name, settings.patrol_interval_s, stop)
        return
    try:
        run_patrol(name, settings.patrol_interval_s, stop, round=watch.round)
    finally:
        watch.stand_down()


def _configure_logging(settings: ServiceSettings) -> None:
    configure_logging(
        settings.service_name,
        level=settings.log_level,
        json=settings.log_json,
        secrets=settings_secrets(settings),
    )
