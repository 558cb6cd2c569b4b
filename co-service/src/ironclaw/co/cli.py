"""`ironclaw-co`: run the co service's Celery worker."""

from __future__ import annotations

import typer

from ironclaw.co.app import QUEUE, create_app, create_celery
from ironclaw.co.config import Settings
from ironclaw.contracts.kit.cli import Concurrency, consume_queue, service_cli


def create_cli() -> typer.Typer:
    """The co service's command line."""
    cli = service_cli("IronClaw co: METE planning of Runs into Orders.")

    @cli.command()
    def worker(concurrency: Concurrency = None) -> None:
        """Consume the `co` queue, answering /health on IRONCLAW_HTTP_PORT (8010)."""
        consume_queue(Settings(), create_celery, create_app, queue=QUEUE, concurrency=concurrency)

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
