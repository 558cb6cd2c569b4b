"""The Alembic migrations build exactly the schema `tables.py` describes, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select
from typer.testing import CliRunner

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AppendRequest
from ironclaw.contracts.events import NewEvent
from ironclaw.contracts.ids import new_id
from ironclaw.ledger.adapters.database import create_db_engine
from ironclaw.ledger.adapters.event_store import EventStore
from ironclaw.ledger.adapters.migrate import alembic_config, upgrade_database
from ironclaw.ledger.adapters.tables import events, metadata
from ironclaw.ledger.cli import cli

LEDGER_TABLES = {
    "events",
    "outbox",
    "snapshots",
    "runs",
    "orders",
    "attempts",
    "theaters",
    "profiles",
    "usage",
}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures logging to the runner's stderr; put the process's config back after."""
    import logging

    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers, root.level = handlers, level
    structlog.contextvars.clear_contextvars()


def schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences: list[Any] = compare_metadata(context, metadata)
    return differences


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_the_migrated_schema_equals_the_table_definitions(engine: Engine) -> None:
    assert schema_differences(engine) == []
    assert set(inspect(engine).get_table_names()) >= LEDGER_TABLES


def test_upgrade_is_idempotent_and_keeps_the_data(database_url: str, engine: Engine) -> None:
    run_id = new_id("run")
    payload = ev.RunReceived(run_id=run_id, theater="alpha", message="hi")
    request = AppendRequest(stream_id=run_id, expected_version=0, events=[NewEvent.of(payload)])
    EventStore(engine).append([request])
    assert current_revision(engine) == head_revision(database_url) is not None

    upgrade_database(database_url)
    upgrade_database(database_url)

    assert current_revision(engine) == head_revision(database_url)
    assert schema_differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(select(events.c.stream_id)).scalars().all() == [run_id]


def test_the_migrate_command_creates_the_tables_on_a_new_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "ledger.db"
    url = f"sqlite:///{path}"
    assert not path.exists()

    result = CliRunner().invoke(cli, ["migrate"], env={"IRONCLAW_DATABASE_URL": url})

    assert result.exit_code == 0, result.output
    assert "ledger.migrated" in result.stderr
    engine = create_db_engine(url)
    try:
        assert LEDGER_TABLES | {"alembic_version"} <= set(inspect(engine).get_table_names())
        assert current_revision(engine) == head_revision(url)
        assert schema_differences(engine) == []
    finally:
        engine.dispose()
