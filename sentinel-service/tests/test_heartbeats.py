"""The duty heartbeats as the sentinel reads them: the last few, never the whole history."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.sentinel.adapters.heartbeats import PAST_ANY_VERSION, LedgerHeartbeats

if TYPE_CHECKING:
    from conftest import Duty


@pytest.fixture
def read_after() -> list[int]:
    """The `after_version` of each stream read the sentinel's ledger client sent."""
    return []


@pytest.fixture
def watched_ledger(ledger_url: str, read_after: list[int]) -> Iterator[LedgerClient]:
    """A ledger client whose stream reads are seen on their way out."""

    def seen(request: httpx.Request) -> None:
        if request.url.path.startswith("/streams/"):
            read_after.append(int(request.url.params["after_version"]))

    http = httpx.Client(base_url=ledger_url, event_hooks={"request": [seen]})
    with LedgerClient(ledger_url, http=http) as client:
        yield client


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_only_the_newest_heartbeats_are_read_each_round(
    duty: Duty, watched_ledger: LedgerClient, read_after: list[int]
) -> None:
    heartbeats = LedgerHeartbeats(watched_ledger, keep=4)
    assert heartbeats.recent() == []  # no duty cycle yet: no stream at all

    for backlog in range(30):
        duty.heartbeat("duty-a:1", backlog=backlog)
    read_after.clear()
    assert [h.backlog for h in heartbeats.recent()] == [26, 27, 28, 29]
    assert read_after == [PAST_ANY_VERSION, 26]

    duty.heartbeat("duty-b:2", fence=7, backlog=30)
    read_after.clear()
    newest = heartbeats.recent()
    assert [h.backlog for h in newest] == [27, 28, 29, 30]
    assert (newest[-1].holder, newest[-1].fence) == ("duty-b:2", 7)
    assert read_after == [PAST_ANY_VERSION, 30]

    read_after.clear()
    assert len(heartbeats.recent()) == 4
    assert read_after == [PAST_ANY_VERSION]  # nothing new: nothing more read
