"""`ironclaw-ledger`: serve the API, run the relay, migrate, rebuild and check projections."""

from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Annotated

import structlog
import typer
import uvicorn

from ironclaw.contracts.kit.logging import configure_logging
from ironclaw.contracts.kit.runner import serve_in_background
from ironclaw.ledger.adapters.database import create_db_engine
from ironclaw.ledger.adapters.migrate import upgrade_database
from ironclaw.ledger.adapters.rebuild import check, rebuild
from ironclaw.ledger.adapters.relay import CeleryPublisher, relay_health_app, run_relay
from ironclaw.ledger.app import create_app
from ironclaw.ledger.config import Settings

cli = typer.Typer(
    help="The IronClaw ledger: events, projections, feed and outbox.", no_args_is_help=True
)
log = structlog.get_logger()


def _settings() -> Settings:
    settings = Settings()
    configure_logging("ledger", level=settings.log_level, json=settings.log_json)
    return settings


@cli.command()
def migrate() -> None:
    """Bring the database to the newest schema."""
    settings = _settings()
    upgrade_database(settings.resolved_database_url)
    log.info("ledger.migrated")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: IRONCLAW_HTTP_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: IRONCLAW_HTTP_PORT (8001)")] = None,
    run_migrations: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True,
) -> None:
    """Serve the ledger's HTTP API."""
    settings = _settings()
    if run_migrations:
        upgrade_database(settings.resolved_database_url)
    uvicorn.run(
        create_app(settings),
        host=host or settings.http_host,
        port=port or settings.http_port,
        log_config=None,
        access_log=False,
    )


@cli.command()
def relay(
    batch_size: Annotated[int | None, typer.Option(help="messages per transaction")] = None,
) -> None:
    """Publish committed outbox messages to the broker until stopped (SIGTERM/SIGINT)."""
    settings = _settings()
    if not settings.broker_url:
        raise typer.BadParameter("IRONCLAW_BROKER_URL is not set: the relay has nowhere to publish")
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    engine = create_db_engine(settings.resolved_database_url, pool_size=2)
    publisher = CeleryPublisher(settings.broker_url)
    if settings.relay_health_port is not None:
        serve_in_background(
            relay_health_app(engine), settings.http_host, settings.relay_health_port
        )
    try:
        run_relay(
            engine,
            publisher,
            batch_size=batch_size or settings.relay_batch_size,
            idle_s=settings.relay_idle_s,
            max_backoff_s=settings.relay_max_backoff_s,
            should_stop=lambda: stopping,
        )
    finally:
        publisher.close()
        engine.dispose()


@cli.command("rebuild")
def rebuild_command() -> None:
    """Drop the projections and snapshots and replay every event into them."""
    settings = _settings()
    engine = create_db_engine(settings.resolved_database_url, pool_size=1)
    started = time.perf_counter()
    count = rebuild(
        engine,
        snapshot_every=settings.snapshot_every,
        progress=lambda n: log.info("ledger.rebuild.progress", events=n),
    )
    elapsed = time.perf_counter() - started
    log.info("ledger.rebuild.done", events=count, seconds=round(elapsed, 3))
    typer.echo(f"rebuilt projections from {count} events in {elapsed:.2f}s")


@cli.command("check")
def check_command() -> None:
    """Compare the live projections with a replay of the events; exit 1 on any difference."""
    settings = _settings()
    engine = create_db_engine(settings.resolved_database_url, pool_size=1)
    differences = check(engine, snapshot_every=settings.snapshot_every)
    for difference in differences:
        typer.echo(difference.describe())
    if differences:
        typer.echo(f"{len(differences)} rows differ between the live and rebuilt projections")
        raise typer.Exit(1)
    typer.echo("live projections equal the rebuilt ones")


def main() -> None:
    cli()
