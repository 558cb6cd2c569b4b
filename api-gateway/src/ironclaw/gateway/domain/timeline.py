"""A Run's events in order: its own stream and its orders' streams, merged by global position.

`RunTimeline.snapshot()` reads the streams; `RunTimeline.follow()` then reads on from the
ledger's global feed. The ledger hands out positions in commit order, so an event missing from a
stream when that stream was read has a position above the last one read from it: following the
feed from the lowest of the streams' last positions catches every such late event, and events
already seen are recognised by their stream version.
"""

from __future__ import annotations

from typing import Final

from ironclaw.contracts.clients.ledger import LedgerClient, LedgerNotFound
from ironclaw.contracts.events import (
    OrderPlanned,
    RunCancelled,
    RunCompleted,
    RunFailed,
    RunRejected,
    StoredEvent,
    order_stream,
    run_stream,
)
from ironclaw.contracts.kit.errors import NotFound

SETTLING_EVENTS: Final = frozenset(
    {e.event_type for e in (RunCompleted, RunFailed, RunCancelled, RunRejected)}
)
FEED_PAGE: Final = 1000


class RunTimeline:
    """Reads one run's events: a snapshot first, then what comes after it."""

    def __init__(self, ledger: LedgerClient, run_id: str) -> None:
        self._ledger = ledger
        self.run_id = run_id
        self._versions: dict[str, int] = {}
        self._feed_after = 0
        self.settled = False

    def snapshot(self) -> list[StoredEvent]:
        """Every event of the run so far, in position order; `NotFound` for an unknown run."""
        try:
            found = self._read_stream(run_stream(self.run_id))
        except LedgerNotFound:
            raise NotFound(f"run {self.run_id!r} does not exist") from None
        last_positions = [found[-1].position]
        # The orders are listed after the run stream was read: an order missing from the list
        # was planned later, so its events all come after what the run stream showed.
        for order in self._ledger.get_run(self.run_id).orders:
            events = self._read_stream(order_stream(order.order_id))
            found.extend(events)
            last_positions.append(events[-1].position)
        self._feed_after = min(last_positions)
        found.sort(key=lambda event: event.position)
        self.settled = any(event.type in SETTLING_EVENTS for event in found)
        return found

    def follow(self) -> list[StoredEvent]:
        """The run's events committed since the last call, in position order.

        Stops after the event that settles the run (`settled` turns true); events after it
        (reply deliveries) are left to a later read.
        """
        fresh: list[StoredEvent] = []
        while not self.settled:
            page = self._ledger.feed(after=self._feed_after, limit=FEED_PAGE)
            for event in page.events:
                self._feed_after = event.position
                if self._is_new(event):
                    fresh.append(event)
                    if event.type in SETTLING_EVENTS and event.stream_id == self.run_id:
                        self.settled = True
                        break
            if len(page.events) < FEED_PAGE:
                break
        return fresh

    def _read_stream(self, stream_id: str) -> list[StoredEvent]:
        """All events of a stream (at least one: the ledger has no empty streams)."""
        events: list[StoredEvent] = []
        while True:
            after = events[-1].version if events else 0
            page = self._ledger.read_stream(stream_id, after_version=after)
            events.extend(page.events)
            if not page.events or events[-1].version >= page.version:
                break
        if not events:
            raise LedgerNotFound(404, f"stream {stream_id!r} has no events")
        self._versions[stream_id] = events[-1].version
        return events

    def _is_new(self, event: StoredEvent) -> bool:
        known = self._versions.get(event.stream_id)
        if known is None:
            if event.type != OrderPlanned.event_type or event.data.get("run_id") != self.run_id:
                return False
            known = 0
        if event.version <= known:
            return False
        self._versions[event.stream_id] = event.version
        return True
