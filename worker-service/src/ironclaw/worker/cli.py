"""`ironclaw-worker`: run the worker service's Celery worker."""

from __future__ import annotations

import threading
from typing import Annotated

import typer
import uvicorn
from celery.signals import worker_ready
from fastapi import FastAPI

from ironclaw.contracts.kit.logging import configure_logging
from ironclaw.worker.app import QUEUE, create_app, create_celery
from ironclaw.worker.config import Settings


def create_cli() -> typer.Typer:
    """The worker service's command line."""
    cli = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)

    @cli.callback()
    def root() -> None:
        """IronClaw worker: executes Order attempts with disposable agent units."""

    @cli.command()
    def worker(
        concurrency: Annotated[
            int | None, typer.Option(min=1, help="Worker processes (default: one per CPU).")
        ] = None,
    ) -> None:
        """Consume the `worker` queue, answering /health on IRONCLAW_HTTP_PORT (8011)."""
        settings = Settings()
        configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
        try:
            celery = create_celery(settings)
        except ValueError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=2) from None
        serve_once_consuming(create_app(settings), settings.http_host, settings.http_port)
        argv = [
            "worker",
            f"--queues={QUEUE}",
            f"--hostname={settings.service_name}@%h",
            f"--loglevel={settings.log_level}",
        ]
        if concurrency is not None:
            argv.append(f"--concurrency={concurrency}")
        celery.worker_main(argv)

    return cli


def serve_once_consuming(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` once the Celery worker consumes its queue, so /health means "consuming"."""

    def start(sender: object, **details: object) -> None:
        serve_in_background(app, host, port)

    worker_ready.connect(start, weak=False)


def serve_in_background(app: FastAPI, host: str, port: int) -> threading.Thread:
    """Serve `app` from a daemon thread, so a process busy with other work still answers."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    thread = threading.Thread(target=uvicorn.Server(config).run, name="health-http", daemon=True)
    thread.start()
    return thread


def main() -> None:
    """Console entry point."""
    create_cli()()
