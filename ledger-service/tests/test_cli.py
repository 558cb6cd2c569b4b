"""`ironclaw-ledger`: its commands, and `check`/`rebuild` finding and repairing a bad projection."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner, Result

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AppendRequest
from ironclaw.contracts.events import NewEvent
from ironclaw.contracts.ids import new_id
from ironclaw.ledger.adapters.event_store import EventStore
from ironclaw.ledger.adapters.tables import orders, runs
from ironclaw.ledger.cli import cli

COMMANDS = ("serve", "relay", "migrate", "rebuild", "check")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures logging to the runner's stderr; put the process's config back after."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers, root.level = handlers, level
    structlog.contextvars.clear_contextvars()


def invoke(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"IRONCLAW_DATABASE_URL": database_url})


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    for command in COMMANDS:
        assert command in result.stdout


def test_the_installed_console_script_answers_help() -> None:
    script = Path(sys.executable).with_name("ironclaw-ledger")
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    done = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    for command in COMMANDS:
        assert command in done.stdout


def test_relay_refuses_to_start_without_a_broker(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["relay"],
        env={
            "IRONCLAW_DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}",
            "IRONCLAW_BROKER_URL": None,
        },
    )
    assert result.exit_code == 2
    assert "IRONCLAW_BROKER_URL" in result.output


def seed(engine: Engine) -> tuple[str, str]:
    run_id, order_id = new_id("run"), new_id("ord")
    spec = ev.PlannedOrder(order_id=order_id, key="build", objective="build it")
    appends: list[tuple[str, list[ev.EventPayload]]] = [
        (
            "theater-alpha",
            [ev.TheaterRegistered(name="alpha", source="/src/alpha", path="/t/alpha")],
        ),
        (run_id, [ev.RunReceived(run_id=run_id, theater="alpha", message="go")]),
        (
            order_id,
            [
                ev.OrderPlanned(order_id=order_id, run_id=run_id, theater="alpha", spec=spec),
                ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=1),
            ],
        ),
    ]
    EventStore(engine).append(
        [
            AppendRequest(stream_id=stream, expected_version=0, events=[NewEvent.of(p) for p in ps])
            for stream, ps in appends
        ]
    )
    return run_id, order_id


def test_check_finds_a_corrupted_projection_and_rebuild_repairs_it(
    database_url: str, engine: Engine
) -> None:
    run_id, order_id = seed(engine)

    clean = invoke(database_url, "check")
    assert clean.exit_code == 0, clean.output
    assert "live projections equal the rebuilt ones" in clean.stdout

    with engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET status = 'failed' WHERE run_id = :id"), {"id": run_id}
        )
        connection.execute(text("DELETE FROM orders WHERE order_id = :id"), {"id": order_id})

    dirty = invoke(database_url, "check")
    assert dirty.exit_code == 1, dirty.output
    assert f"runs['{run_id}']: status: live='failed' rebuilt='received'" in dirty.stdout
    assert f"orders['{order_id}']: missing from the live projection" in dirty.stdout
    assert "2 rows differ" in dirty.stdout

    rebuilt = invoke(database_url, "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuilt projections from 4 events" in rebuilt.stdout

    with engine.connect() as connection:
        assert connection.execute(select(runs.c.status)).scalars().all() == ["received"]
        assert connection.execute(select(orders.c.order_id, orders.c.status)).all() == [
            (order_id, "issued")
        ]

    again = invoke(database_url, "check")
    assert again.exit_code == 0, again.output
    assert "live projections equal the rebuilt ones" in again.stdout
