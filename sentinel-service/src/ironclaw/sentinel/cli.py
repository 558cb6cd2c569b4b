"""`ironclaw-sentinel`: run the sentinel patrol."""

from __future__ import annotations

import typer

from ironclaw.contracts.kit.cli import patrol_until_stopped, service_cli
from ironclaw.sentinel.app import create_app
from ironclaw.sentinel.config import Settings


def create_cli() -> typer.Typer:
    """The sentinel service's command line."""
    cli = service_cli("IronClaw sentinel: audits the duty officer's patrol, backlog and failover.")

    @cli.command()
    def patrol() -> None:
        """Patrol until SIGTERM, answering /health on IRONCLAW_HTTP_PORT (8015).

        For now a placeholder: it logs `sentinel.patrol.idle` every IRONCLAW_PATROL_INTERVAL_S.
        """
        patrol_until_stopped(Settings(), create_app, name="sentinel")

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
