"""A Run's events in order: its own stream and its orders' streams, merged by global position.

`RunTimeline.snapshot()` reads the streams twice and returns what lies at or below the highest
position the first pass saw (the *horizon*); `RunTimeline.follow()` then reads on from the
ledger's global feed after the horizon. The ledger hands out positions in commit order and the
horizon was committed before the second pass began, so an event at or below it that the first
pass missed was committed before the second pass read its stream: the snapshot is complete up to
the horizon, and the feed brings everything above it, in position order.
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
            found = self._read_streams()
        except LedgerNotFound:
            raise NotFound(f"run {self.run_id!r} does not exist") from None
        horizon = max(event.position for event in found)
        found.extend(self._read_streams())  # what committed while the first pass was reading
        early = sorted(
            (event for event in found if event.position <= horizon),
            key=lambda event: event.position,
        )
        # Later events are left to the feed, which delivers them in position order.
        self._versions = {}
        for event in early:
            self._versions[event.stream_id] = event.version
        self._feed_after = horizon
        self.settled = any(event.type in SETTLING_EVENTS for event in early)
        return early

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

    def _read_streams(self) -> list[StoredEvent]:
        """The run stream's and its orders' events not read yet (orders listed after the run)."""
        found = self._read_stream(run_stream(self.run_id))
        for order in self._ledger.get_run(self.run_id).orders:
            found.extend(self._read_stream(order_stream(order.order_id)))
        return found

    def _read_stream(self, stream_id: str) -> list[StoredEvent]:
        """A stream's events after the version already read; `LedgerNotFound` if it has none."""
        events: list[StoredEvent] = []
        version = self._versions.get(stream_id, 0)
        while True:
            page = self._ledger.read_stream(stream_id, after_version=version)
            events.extend(page.events)
            version = events[-1].version if events else version
            if not page.events or version >= page.version:
                break
        self._versions[stream_id] = version
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
