"""Chaos fixtures: the whole fleet with its watchdogs as real processes, tuned to react fast.

The patrols run every second; an Order's heartbeat and claim timeouts are set per Order by the
tests (`BUDGET`), so a unit killed mid-engine is declared dead within seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chaos_checks import SERVICE_SETTINGS
from fleet import SERVICES, Fleet, fleet_environment
from fleet_runs import fleet_running
from openai_server import ScriptedModel

WATCHDOG_SETTINGS = {
    "IRONCLAW_PATROL_INTERVAL_S": "1",
    "IRONCLAW_EXPIRED_LEASE_GRACE_S": "1",
    "IRONCLAW_BACKOFF_BASE_S": "0.5",
    "IRONCLAW_INTEGRATION_RESEND_AFTER_S": "5",
    "IRONCLAW_MESSAGE_RESEND_AFTER_S": "5",
    "IRONCLAW_DUTY_LEASE_TTL_S": "60",
}
WATCHDOGS = ("observer", "duty", "duty-standby", "sentinel")


@pytest.fixture
def chaos_fleet(
    postgres_url: str,
    redis_db_url: str,
    model_endpoint: tuple[str, ScriptedModel],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Fleet]:
    """Ledger, relay, vault, gateway, co, worker (10 slots), integration, observer, two duty
    officers and the sentinel, on a fresh Postgres database and Redis database."""
    home = tmp_path / "home"
    home.mkdir()
    env, ports = fleet_environment(home, postgres_url, redis_db_url, model_endpoint[0])
    fleet = Fleet(
        home=home,
        env=env | WATCHDOG_SETTINGS,
        ports=ports,
        worker_concurrency=10,
        service_env=SERVICE_SETTINGS,
    )
    names = [name for name, *_ in SERVICES] + list(WATCHDOGS)
    with fleet_running(fleet, names, request) as running:
        yield running
