"""End-to-end fixtures: the whole fleet as real processes on PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet import SERVICES, Fleet, fleet_environment
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
    running = Fleet(home=home, env=env, ports=ports)
    try:
        running.start_all([name for name, *_ in SERVICES])
        yield running
    finally:
        running.stop()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(running.logs())


@pytest.fixture
def model(model_endpoint: tuple[str, ScriptedModel]) -> ScriptedModel:
    return model_endpoint[1]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
