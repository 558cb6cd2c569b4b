"""`ironclaw-integration`: run the integration service's Celery worker."""

from __future__ import annotations

import typer

from ironclaw.contracts.kit.cli import Concurrency, consume_queue, service_cli
from ironclaw.integration.app import QUEUE, create_app, create_celery
from ironclaw.integration.config import Settings


def create_cli() -> typer.Typer:
    """The integration service's command line."""
    cli = service_cli(
        "IronClaw integration: gates accepted attempts and promotes them to mainline."
    )

    @cli.command()
    def worker(concurrency: Concurrency = None) -> None:
        """Consume the `integration` queue, answering /health on IRONCLAW_HTTP_PORT (8013)."""
        consume_queue(Settings(), create_celery, create_app, queue=QUEUE, concurrency=concurrency)

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
