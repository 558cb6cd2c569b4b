"""The duty officer's latest heartbeats, read from the end of `patrol-duty` on the ledger."""

from __future__ import annotations

from collections import deque

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerNotFound
from ironclaw.sentinel.domain.audit import DutyHeartbeat

DUTY_STREAM = ev.patrol_stream("duty")
# A read after a version no stream reaches returns no events, only the stream's version. The
# ledger keeps versions as 32-bit integers on PostgreSQL: this is the largest it can compare.
PAST_ANY_VERSION = 2**31 - 1


class LedgerHeartbeats:
    """The last `keep` duty heartbeats, oldest first.

    The stream grows by one event per duty cycle, forever. Each read asks for the stream's
    version first (no events), then reads only what is new and among the last `keep`: two
    small reads per round, whatever the length of the history.
    """

    def __init__(self, ledger: LedgerClient, *, keep: int, stream_id: str = DUTY_STREAM) -> None:
        self._ledger = ledger
        self._stream_id = stream_id
        self._recent: deque[DutyHeartbeat] = deque(maxlen=keep)
        self._read_to = 0

    def recent(self) -> list[DutyHeartbeat]:
        head = self._version()
        after = max(self._read_to, head - (self._recent.maxlen or 0))
        if head > after:
            page = self._ledger.read_stream(self._stream_id, after_version=after)
            for event in page.events:
                payload = event.payload()
                if isinstance(payload, ev.PatrolCompleted):
                    self._recent.append(DutyHeartbeat.of(payload, event.recorded_at))
                self._read_to = max(self._read_to, event.version)
        return list(self._recent)

    def forget(self) -> None:
        """Start afresh at the next read (after standing by, what was read has grown old)."""
        self._recent.clear()
        self._read_to = 0

    def _version(self) -> int:
        try:
            page = self._ledger.read_stream(self._stream_id, after_version=PAST_ANY_VERSION)
        except LedgerNotFound:  # no duty cycle was ever recorded
            return 0
        return page.version
