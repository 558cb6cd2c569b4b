"""`ironclaw-learning`: run the learning service's internal API or its Celery consumer."""

from __future__ import annotations

import typer

from ironclaw.contracts.kit.cli import Concurrency, consume_queue, serve_http_api, service_cli
from ironclaw.learning.app import QUEUE, create_app, create_celery, create_health_app
from ironclaw.learning.config import Settings


def create_cli() -> typer.Typer:
    """The learning service's command line."""
    cli = service_cli("IronClaw learning: routing policy and preferences learned from outcomes.")

    @cli.command()
    def serve() -> None:
        """Serve the internal API on IRONCLAW_HTTP_HOST:IRONCLAW_HTTP_PORT (8003)."""
        serve_http_api(Settings(), create_app)

    @cli.command()
    def worker(concurrency: Concurrency = None) -> None:
        """Consume the `learning` queue, answering /health on IRONCLAW_HTTP_PORT.

        Run it with its own IRONCLAW_HTTP_PORT when `serve` runs on the same host.
        """
        consume_queue(
            Settings(), create_celery, create_health_app, queue=QUEUE, concurrency=concurrency
        )

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
