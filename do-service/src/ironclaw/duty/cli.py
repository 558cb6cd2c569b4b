"""`ironclaw-duty`: run the duty officer patrol."""

from __future__ import annotations

import typer

from ironclaw.contracts.kit.cli import patrol_until_stopped, service_cli
from ironclaw.duty.app import create_app
from ironclaw.duty.config import Settings


def create_cli() -> typer.Typer:
    """The duty officer service's command line."""
    cli = service_cli("IronClaw duty officer: garrison-wide patrol of overdue Orders and budgets.")

    @cli.command()
    def patrol() -> None:
        """Patrol until SIGTERM, answering /health on IRONCLAW_HTTP_PORT (8014).

        For now a placeholder: it logs `duty.patrol.idle` every IRONCLAW_PATROL_INTERVAL_S.
        """
        patrol_until_stopped(Settings(), create_app, name="duty")

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
