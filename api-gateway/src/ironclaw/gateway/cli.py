"""`ironclaw-gateway`: run the public gateway."""

from __future__ import annotations

import typer
import uvicorn

from ironclaw.contracts.kit.logging import configure_logging
from ironclaw.gateway.app import create_app
from ironclaw.gateway.config import Settings


def create_cli() -> typer.Typer:
    """The gateway's command line."""
    cli = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)

    @cli.callback()
    def root() -> None:
        """IronClaw gateway: the public HTTP API (chat, runs, orders, webhooks)."""

    @cli.command()
    def serve() -> None:
        """Serve the public API on IRONCLAW_HTTP_HOST:IRONCLAW_HTTP_PORT (127.0.0.1:8000)."""
        settings = Settings()
        configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
        uvicorn.run(
            create_app(settings),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
        )

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
