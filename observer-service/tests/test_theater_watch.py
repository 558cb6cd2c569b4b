"""Several observers: each theater is patrolled by the holder of its lease, under its fence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ironclaw.contracts.clients.ledger import LedgerNotFound
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.events import PatrolCompleted
from ironclaw.observer.app import create_watch
from ironclaw.observer.config import Settings

if TYPE_CHECKING:
    from conftest import Fleet


@pytest.fixture(params=["redis", "file"])
def broker_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Redis leases when the broker is Redis, file locks when it is a folder."""
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_db_url")
        return url
    return f"filesystem:///{tmp_path / 'broker'}"


def test_one_observer_patrols_a_theater_while_another_stands_by_until_it_stands_down(
    fleet: Fleet, vault: VaultClient, ledger_url: str, home: Path, broker_url: str
) -> None:
    settings = Settings(broker_url=broker_url, home=home, ledger_url=ledger_url)
    first = create_watch(settings, vault, holder="a:1")
    second = create_watch(settings, vault, holder="b:2")

    assert [c.scope for c in first.watch(1)] == ["project"]
    assert second.watch(1) == []
    assert [c.scope for c in first.watch(2)] == ["project"]
    first.stand_down()
    assert [c.scope for c in second.watch(2)] == ["project"]
    second.stand_down()

    recorded = [(c.holder, c.fence) for c in cycles(fleet)]
    assert recorded == [("a:1", 1), ("a:1", 1), ("b:2", 2)]


def cycles(fleet: Fleet) -> list[PatrolCompleted]:
    try:
        events = fleet.ledger.read_stream("patrol-observer-project").events
    except LedgerNotFound:
        return []
    return [PatrolCompleted.model_validate(e.data) for e in events]
