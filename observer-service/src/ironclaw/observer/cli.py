"""`ironclaw-observer`: run the observer patrol."""

from __future__ import annotations

import typer

from ironclaw.contracts.kit.cli import patrol_until_stopped, service_cli
from ironclaw.observer.app import create_app
from ironclaw.observer.config import Settings


def create_cli() -> typer.Typer:
    """The observer service's command line."""
    cli = service_cli(
        "IronClaw observer: patrols theaters for stalled attempts and orphaned worktrees."
    )

    @cli.command()
    def patrol() -> None:
        """Patrol until SIGTERM, answering /health on IRONCLAW_HTTP_PORT (8012).

        For now a placeholder: it logs `observer.patrol.idle` every IRONCLAW_PATROL_INTERVAL_S.
        """
        patrol_until_stopped(Settings(), create_app, name="observer")

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
