"""`ironclaw-worker`: run the worker service's Celery worker."""

from __future__ import annotations

import typer

from ironclaw.contracts.kit.cli import Concurrency, consume_queue, service_cli
from ironclaw.worker.app import QUEUE, create_app, create_celery
from ironclaw.worker.config import Settings


def create_cli() -> typer.Typer:
    """The worker service's command line."""
    cli = service_cli("IronClaw worker: executes Order attempts with disposable agent units.")

    @cli.command()
    def worker(concurrency: Concurrency = None) -> None:
        """Consume the `worker` queue, answering /health on IRONCLAW_HTTP_PORT (8011)."""
        consume_queue(Settings(), create_celery, create_app, queue=QUEUE, concurrency=concurrency)

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
