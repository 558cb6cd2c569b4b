"""`ironclaw-gateway`: run the public gateway."""

from __future__ import annotations

import typer

from ironclaw.contracts.kit.cli import serve_http_api, service_cli
from ironclaw.gateway.app import create_app
from ironclaw.gateway.config import Settings


def create_cli() -> typer.Typer:
    """The gateway's command line."""
    cli = service_cli("IronClaw gateway: the public HTTP API (chat, runs, orders, webhooks).")

    @cli.command()
    def serve() -> None:
        """Serve the public API on IRONCLAW_HTTP_HOST:IRONCLAW_HTTP_PORT (127.0.0.1:8000)."""
        serve_http_api(Settings(), create_app)

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
