"""The ledger client of a lease holder: the patrol heartbeats it appends carry its fence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AppendResult
from ironclaw.contracts.clients.ledger import LedgerClient

FenceOf = Callable[[ev.PatrolCompleted], int | None]
"""The fence of the tenure a heartbeat was made under (by its scope), None if not held."""


class FencedLedgerClient(LedgerClient):
    """A `LedgerClient` that stamps each `PatrolCompleted` it appends with the holder's fence.

    A patrol builds its heartbeat deep in its own cycle, while the fence belongs to the
    process's lease; stamping on the way out records the tenure without the cycle knowing it.
    A heartbeat that already names a fence keeps it.
    """

    def __init__(self, base_url: str, *, fence_of: FenceOf, **options: Any) -> None:
        super().__init__(base_url, **options)
        self._fence_of = fence_of

    def append(
        self,
        stream_id: str,
        events: Sequence[ev.NewEvent | ev.EventPayload],
        *,
        expected_version: int | None,
    ) -> AppendResult:
        stamped = [self._stamp(event) for event in events]
        return super().append(stream_id, stamped, expected_version=expected_version)

    def _stamp(self, event: ev.NewEvent | ev.EventPayload) -> ev.NewEvent | ev.EventPayload:
        if isinstance(event, ev.PatrolCompleted) and event.fence is None:
            return event.model_copy(update={"fence": self._fence_of(event)})
        return event
