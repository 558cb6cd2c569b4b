"""`ironclaw-duty`: run the duty officer patrol."""

from __future__ import annotations

import threading

import typer

from ironclaw.contracts.kit.cli import service_cli
from ironclaw.contracts.kit.logging import configure_logging, get_logger
from ironclaw.contracts.kit.runner import run_patrol, serve_in_background, stop_on_signals
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
        settings = Settings()
        configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
        stop = threading.Event()
        stop_on_signals(stop)
        serve_in_background(create_app(settings), settings.http_host, settings.http_port)
        try:
            officer = create_officer(settings)
        except ValueError as error:
            # Without a broker nothing can be re-enqueued: say so, and keep only the heartbeat
            # of a process that is up (`duty.patrol.idle`), as before the patrol existed.
            get_logger().warning("duty.patrol.unarmed", reason=str(error))
            run_patrol("duty", settings.patrol_interval_s, stop)
            return
        try:
            run_patrol("duty", settings.patrol_interval_s, stop, round=officer.round)
        finally:
            officer.stand_down()

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
