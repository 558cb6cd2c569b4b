"""`ironclaw-vault`: run the vault service's internal API."""

from __future__ import annotations

import typer

from ironclaw.contracts.kit.cli import serve_http_api, service_cli
from ironclaw.vault.app import create_app
from ironclaw.vault.config import Settings


def create_cli() -> typer.Typer:
    """The vault service's command line."""
    cli = service_cli("IronClaw vault: theater repositories, worktrees and artifacts.")

    @cli.command()
    def serve() -> None:
        """Serve the internal API on IRONCLAW_HTTP_HOST:IRONCLAW_HTTP_PORT (8002)."""
        serve_http_api(Settings(), create_app)

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
