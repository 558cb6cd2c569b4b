"""The duty officer on watch: a patrol cycle per round, only while it holds the lease."""

from __future__ import annotations

from typing import Protocol

from ironclaw.contracts import events as ev
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.duty.domain.patrol import DutyPatrol

log = get_logger()


class Lease(Protocol):
    """A lease only one duty officer holds at a time, under a fence that grows per tenure."""

    @property
    def fence(self) -> int | None: ...

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class DutyOfficer:
    """Runs `patrol`'s cycle in each round it holds `lease`; stands by in the others."""

    def __init__(self, patrol: DutyPatrol, lease: Lease, *, holder: str) -> None:
        self.patrol = patrol
        self.lease = lease
        self.holder = holder
        self._fence: int | None = None

    def round(self, number: int) -> None:
        """One round of the patrol loop (`kit.runner.run_patrol`'s `round`)."""
        self.watch(number)

    def stand_down(self) -> None:
        """Give the lease up, so a standby takes over at its next round instead of at expiry."""
        try:
            self.lease.release()
        except Exception:
            log.exception("duty.lease.release_failed", holder=self.holder)

    def watch(self, number: int) -> ev.PatrolCompleted | None:
        """One round: the cycle's heartbeat, or None when it did not run.

        A round that fails is logged and the next one tries again: a patrol must outlive a
        ledger, broker or lease store that is briefly away.
        """
        try:
            if not self.lease.acquire():
                log.info("duty.patrol.standby", round=number, holder=self.holder)
                self._fence = None
                return None
            if self.lease.fence != self._fence:
                self._fence = self.lease.fence
                log.info("duty.lease.taken", round=number, holder=self.holder, fence=self._fence)
            return self.patrol.cycle()
        except Exception:
            log.exception("duty.patrol.failed", round=number, holder=self.holder)
            return None
