"""`ironclaw-observer`: run the observer patrol."""

from __future__ import annotations

import threading
from contextlib import closing

import typer

from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.kit.cli import service_cli
from ironclaw.contracts.kit.logging import configure_logging, get_logger
from ironclaw.contracts.kit.runner import run_patrol, serve_in_background, stop_on_signals
from ironclaw.observer.app import create_app
from ironclaw.observer.config import Settings
from ironclaw.observer.domain.patrol import Observer, default_holder

log = get_logger(__name__)


def create_cli() -> typer.Typer:
    """The observer service's command line."""
    cli = service_cli(
        "IronClaw observer: patrols theaters for stalled attempts and orphaned worktrees."
    )

    @cli.command()
    def patrol() -> None:
        """Patrol every theater every IRONCLAW_PATROL_INTERVAL_S until SIGTERM.

        Answers /health on IRONCLAW_HTTP_PORT (8012).
        """
        patrol_until_stopped(Settings())

    return cli


def patrol_until_stopped(settings: Settings) -> None:
    """Run observer cycles until SIGTERM or SIGINT; a failed cycle is logged, not fatal."""
    configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
    stop = threading.Event()
    stop_on_signals(stop)
    serve_in_background(create_app(settings), settings.http_host, settings.http_port)
    # Short retries: a SIGTERM waits for the round, and the next round tries again anyway.
    token, retry_for_s = settings.internal_token, settings.client_retry_s
    with (
        closing(LedgerClient(settings.ledger_url, token=token, retry_for_s=retry_for_s)) as ledger,
        closing(VaultClient(settings.vault_url, token=token, retry_for_s=retry_for_s)) as vault,
    ):
        observer = Observer(ledger=ledger, vault=vault, home=settings.home, holder=default_holder())

        def cycle(round_number: int) -> None:
            try:
                observer.patrol_all()
            except Exception:  # the next round retries: a patrol must outlive a bad moment
                log.exception("observer.patrol.failed", round=round_number)

        run_patrol("observer", settings.patrol_interval_s, stop, round=cycle)


def main() -> None:
    """Console entry point."""
    create_cli()()
