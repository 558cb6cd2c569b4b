"""`ironclaw-observer`: run the observer patrol."""

from __future__ import annotations

import threading
from contextlib import closing

import typer

from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.kit.cli import service_cli
from ironclaw.contracts.kit.logging import configure_logging
from ironclaw.contracts.kit.runner import run_patrol, serve_in_background, stop_on_signals
from ironclaw.observer.app import create_app, create_watch
from ironclaw.observer.config import Settings


def create_cli() -> typer.Typer:
    """The observer service's command line."""
    cli = service_cli(
        "IronClaw observer: patrols theaters for stalled attempts and orphaned worktrees."
    )

    @cli.command()
    def patrol() -> None:
        """Patrol every theater every IRONCLAW_PATROL_INTERVAL_S until SIGTERM.

        Answers /health on IRONCLAW_HTTP_PORT (8012). Several observers may run: each theater
        is patrolled only by the one holding its `observer-<theater>` lease (a Redis key when
        IRONCLAW_BROKER_URL is Redis, held IRONCLAW_LEASE_TTL_S (90) past each round; else a
        file lock under IRONCLAW_HOME); the others log `observer.patrol.standby` for it.
        """
        patrol_until_stopped(Settings())

    return cli


def patrol_until_stopped(settings: Settings) -> None:
    """Run observer rounds until SIGTERM or SIGINT; a failed theater is logged, not fatal."""
    configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
    stop = threading.Event()
    stop_on_signals(stop)
    serve_in_background(create_app(settings), settings.http_host, settings.http_port)
    # Short retries: a SIGTERM waits for the round, and the next round tries again anyway.
    token, retry_for_s = settings.internal_token, settings.client_retry_s
    with closing(VaultClient(settings.vault_url, token=token, retry_for_s=retry_for_s)) as vault:
        watch = create_watch(settings, vault)
        try:
            run_patrol("observer", settings.patrol_interval_s, stop, round=watch.round)
        finally:
            watch.stand_down()


def main() -> None:
    """Console entry point."""
    create_cli()()
