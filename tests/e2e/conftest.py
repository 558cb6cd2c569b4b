"""End-to-end fixtures: the whole fleet as real processes on PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet import SERVICES, Fleet, fleet_environment
from fleet_runs import fleet_running
from openai_server import ScriptedModel


@pytest.fixture
def fleet(
    postgres_url: str,
    redis_db_url: str,
    model_endpoint: tuple[str, ScriptedModel],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Fleet]:
    home = tmp_path / "home"
    home.mkdir()
    env, ports = fleet_environment(home, postgres_url, redis_db_url, model_endpoint[0])
    with fleet_running(
        Fleet(home=home, env=env, ports=ports), [name for name, *_ in SERVICES], request
    ) as running:
        yield running
