"""`ironclaw-duty`: run the duty officer patrol."""

from __future__ import annotations

import typer

from ironclaw.contracts.kit.cli import patrol_with_watch, service_cli
from ironclaw.duty.app import create_app, create_officer
from ironclaw.duty.config import Settings


def create_cli() -> typer.Typer:
    """The duty officer service's command line."""
    cli = service_cli("IronClaw duty officer: garrison-wide patrol of overdue Orders and budgets.")

    @cli.command()
    def patrol() -> None:
        """Patrol until SIGTERM, answering /health on IRONCLAW_HTTP_PORT (8014).

        Every IRONCLAW_PATROL_INTERVAL_S, while it holds the duty lease (a Redis key when the
        broker is Redis, else a file lock under IRONCLAW_HOME), it re-enqueues unclaimed
        Orders, reissues or fails dead attempts, re-requests integration of forgotten ones,
        disables profiles failing IRONCLAW_PROFILE_DISABLE_AFTER (5) times in a row
        (`ProfileDisabled`; an operator enables them with POST /profiles/{name}/enable on the
        gateway), pauses dispatch in theaters over their daily budget and resumes it once they
        are back under (`DispatchPaused` / `DispatchResumed`), and appends `PatrolCompleted` on
        `patrol-duty`; without the lease it logs `duty.patrol.standby`. Without
        IRONCLAW_BROKER_URL it only logs `duty.patrol.idle`.

        Daily budgets (UTC days, none by default): IRONCLAW_BUDGET_TOKENS_PER_DAY and
        IRONCLAW_BUDGET_COST_PER_DAY_USD for all theaters together, IRONCLAW_THEATER_BUDGETS for
        each theater as JSON, e.g. '{"alpha": {"tokens_per_day": 200000, "cost_per_day_usd": 5}}'.
        """
        patrol_with_watch(Settings(), create_app, create_officer, name="duty")

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
