"""`ironclaw-sentinel`: run the sentinel patrol."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer
import uvicorn
from fastapi import FastAPI

from ironclaw.contracts.kit.logging import configure_logging
from ironclaw.sentinel.app import create_app
from ironclaw.sentinel.config import Settings
from ironclaw.sentinel.patrol import run_patrol


def create_cli() -> typer.Typer:
    """The sentinel service's command line."""
    cli = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)

    @cli.callback()
    def root() -> None:
        """IronClaw sentinel: audits the duty officer's patrol, backlog and failover."""

    @cli.command()
    def patrol() -> None:
        """Patrol until SIGTERM, answering /health on IRONCLAW_HTTP_PORT (8015).

        For now a placeholder: it logs `sentinel.patrol.idle` every IRONCLAW_PATROL_INTERVAL_S.
        """
        settings = Settings()
        configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
        stop = threading.Event()
        stop_on_signals(stop)
        serve_in_background(create_app(settings), settings.http_host, settings.http_port)
        run_patrol(settings, stop)

    return cli


def stop_on_signals(stop: threading.Event) -> None:
    """Turn SIGTERM and SIGINT into a stop request, so the loop ends between rounds."""

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)


def serve_in_background(app: FastAPI, host: str, port: int) -> threading.Thread:
    """Serve `app` from a daemon thread, so a process busy with other work still answers."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    thread = threading.Thread(target=uvicorn.Server(config).run, name="health-http", daemon=True)
    thread.start()
    return thread


def main() -> None:
    """Console entry point."""
    create_cli()()
