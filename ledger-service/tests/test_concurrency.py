"""Racing writers: one winner per version, no gaps, idempotent re-sends, a feed that never skips."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, event

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AppendRequest, AppendResult
from ironclaw.contracts.ids import new_id
from ironclaw.ledger.adapters.event_store import EventStore, VersionConflictError

WRITERS = 8


def patrol_event(holder: str) -> ev.NewEvent:
    return ev.NewEvent.of(
        ev.PatrolCompleted(scope="garrison", patrol="duty", holder=holder, duration_ms=1)
    )


def race(workers: int, attempt: Callable[[int], Any]) -> list[Any]:
    """Run `attempt(i)` on `workers` threads released at the same instant."""
    barrier = threading.Barrier(workers)

    def run(index: int) -> Any:
        barrier.wait()
        try:
            return attempt(index)
        except VersionConflictError as conflict:
            return conflict

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, range(workers)))


def test_exactly_one_appender_wins_each_version(engine: Engine) -> None:
    store = EventStore(engine)
    stream = ev.patrol_stream("race")
    for version in range(20):
        outcomes = race(
            WRITERS,
            lambda i, v=version: store.append(
                [
                    AppendRequest(
                        stream_id=stream, expected_version=v, events=[patrol_event(f"w{i}")]
                    )
                ]
            ),
        )
        winners = [o for o in outcomes if not isinstance(o, VersionConflictError)]
        losers = [o for o in outcomes if isinstance(o, VersionConflictError)]
        assert len(winners) == 1, f"version {version + 1}: {len(winners)} winners"
        assert all(loser.extra["actual_version"] == version + 1 for loser in losers)
    page = store.read_stream(stream)
    assert [e.version for e in page.events] == list(range(1, 21))


def test_appenders_that_retry_on_conflict_fill_every_version_once(engine: Engine) -> None:
    store = EventStore(engine)
    stream = ev.patrol_stream("retry")
    per_writer = 15

    def write(index: int) -> int:
        conflicts = 0
        for n in range(per_writer):
            while True:
                version = store.stream_version(stream)
                request = AppendRequest(
                    stream_id=stream,
                    expected_version=version,
                    events=[patrol_event(f"w{index}-{n}")],
                )
                try:
                    store.append([request])
                    break
                except VersionConflictError:
                    conflicts += 1
        return conflicts

    race(WRITERS, write)
    page = store.read_stream(stream)
    assert [e.version for e in page.events] == list(range(1, WRITERS * per_writer + 1))
    holders = Counter(e.data["holder"] for e in page.events)
    assert len(holders) == WRITERS * per_writer
    assert set(holders.values()) == {1}


def test_concurrent_resends_of_one_append_store_it_once(engine: Engine) -> None:
    store = EventStore(engine)
    run_id = new_id("run")
    request = AppendRequest(
        stream_id=run_id,
        expected_version=0,
        events=[ev.NewEvent.of(ev.RunReceived(run_id=run_id, theater="default", message="m"))],
    )
    results: list[AppendResult] = race(WRITERS, lambda _i: store.append([request])[0])
    assert {r.events[0].position for r in results} == {results[0].events[0].position}
    assert sum(not r.duplicate for r in results) == 1
    assert store.stream_version(run_id) == 1


@pytest.fixture
def slow_commits(engine: Engine) -> Iterator[None]:
    """Delay commits at random so transactions commit in a different order than they insert."""

    def delay(_connection: Any) -> None:
        time.sleep(random.uniform(0, 0.004))

    event.listen(engine, "commit", delay)
    yield
    event.remove(engine, "commit", delay)


@pytest.mark.usefixtures("slow_commits")
def test_a_follower_of_the_feed_never_skips_a_late_commit(engine: Engine) -> None:
    store = EventStore(engine)
    per_writer = 40
    writers_done = threading.Event()
    seen: list[int] = []

    def follow() -> None:
        after = 0
        while True:
            finished = writers_done.is_set()
            page = store.feed(after=after, limit=7)
            seen.extend(e.position for e in page.events)
            after = page.last_position
            if finished and not page.events:
                return

    def write(index: int) -> None:
        stream = ev.patrol_stream(f"feed-{index}")
        for n in range(per_writer):
            batch = [patrol_event(f"w{index}-{n}-{k}") for k in range(random.randint(1, 3))]
            store.append([AppendRequest(stream_id=stream, expected_version=None, events=batch)])

    follower = threading.Thread(target=follow)
    follower.start()
    race(WRITERS, write)
    writers_done.set()
    follower.join(timeout=60)
    assert not follower.is_alive()
    everything = [e.position for e in store.feed(after=0, limit=100_000).events]
    assert seen == everything, f"the follower missed {sorted(set(everything) - set(seen))[:10]}"
