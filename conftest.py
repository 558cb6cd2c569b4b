"""Shared fixtures: real PostgreSQL and Redis when available, SQLite always, one database per test.

PostgreSQL and Redis come from `IRONCLAW_TEST_DATABASE_URL` / `IRONCLAW_TEST_REDIS_URL`, else from
testcontainers when a Docker engine answers. Without either, the Postgres and Redis halves of the
suite are skipped and the run ends by saying so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_claims import claimed_redis_database
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from ironclaw.ledger.adapters.database import create_db_engine, normalise_url
from ironclaw.ledger.adapters.migrate import upgrade_database

pytest_plugins = ["fleet_fixtures"]

SKIPPED_BACKENDS: dict[str, str] = {}


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str | None]:
    """A URL to a Postgres database we may create other databases from, or None."""
    configured = os.environ.get("IRONCLAW_TEST_DATABASE_URL")
    if configured:
        yield normalise_url(configured)
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="psycopg") as container:
            yield normalise_url(container.get_connection_url())
        return
    SKIPPED_BACKENDS["PostgreSQL"] = (
        "IRONCLAW_TEST_DATABASE_URL is unset and Docker is not available"
    )
    yield None


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str | None]:
    configured = os.environ.get("IRONCLAW_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    if _docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7") as container:
            host = container.get_container_host_ip()
            yield f"redis://{host}:{container.get_exposed_port(6379)}/0"
        return
    SKIPPED_BACKENDS["Redis"] = "IRONCLAW_TEST_REDIS_URL is unset and Docker is not available"
    yield None


@pytest.fixture
def require_redis(redis_url: str | None) -> str:
    if redis_url is None:
        pytest.skip("needs Redis: set IRONCLAW_TEST_REDIS_URL")
    return redis_url


@pytest.fixture
def redis_db_url(require_redis: str) -> Iterator[str]:
    """A Redis database this test alone uses (see tests/support/redis_claims.py)."""
    with claimed_redis_database(require_redis) as url:
        if url is None:
            pytest.skip("every Redis database the tests may claim is taken")
        yield url


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str | None) -> Iterator[str | None]:
    """A migrated template database; each test copies it, which is much faster than migrating."""
    if postgres_admin_url is None:
        yield None
        return
    name = f"ironclaw_tpl_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade_database(_with_database(postgres_admin_url, name))
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_admin_url: str | None, postgres_template: str | None) -> Iterator[str]:
    """A fresh, migrated Postgres database owned by this test alone."""
    if postgres_admin_url is None or postgres_template is None:
        pytest.skip("needs PostgreSQL: set IRONCLAW_TEST_DATABASE_URL")
    name = f"ironclaw_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    yield _with_database(postgres_admin_url, name)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite database file owned by this test alone."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade_database(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs a test once on SQLite and once on PostgreSQL (skipped, and reported, if absent)."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    created = create_db_engine(database_url)
    yield created
    created.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for backend, reason in SKIPPED_BACKENDS.items():
        terminalreporter.write_line(
            f"NOTE: the {backend} half of the suite was skipped: {reason}.", yellow=True, bold=True
        )
