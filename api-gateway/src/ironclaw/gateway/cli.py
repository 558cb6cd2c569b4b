"""`ironclaw-gateway`: run the public gateway, and the consumer of its reply queue."""

from __future__ import annotations

import typer

from ironclaw.contracts.kit.cli import Concurrency, consume_queue, serve_http_api, service_cli
from ironclaw.gateway.app import QUEUE, create_app, create_celery, create_worker_app
from ironclaw.gateway.config import Settings


def create_cli() -> typer.Typer:
    """The gateway's command line."""
    cli = service_cli("IronClaw gateway: the public HTTP API (chat, runs, orders, webhooks).")

    @cli.command()
    def serve() -> None:
        """Serve the public API on IRONCLAW_HTTP_HOST:IRONCLAW_HTTP_PORT (127.0.0.1:8000)."""
        serve_http_api(Settings(), create_app)

    @cli.command()
    def worker(concurrency: Concurrency = None) -> None:
        """Consume the `gateway` queue (reply delivery), answering /health on IRONCLAW_HTTP_PORT."""
        consume_queue(
            Settings(), create_celery, create_worker_app, queue=QUEUE, concurrency=concurrency
        )

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
