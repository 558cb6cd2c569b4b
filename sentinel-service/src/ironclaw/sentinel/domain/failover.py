"""When to break a stale duty officer's lease, and when to say that no standby took over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ironclaw.contracts.kit.lease import LeaseHolder
from ironclaw.sentinel.domain.audit import Audit, DutyHeartbeat

NO_STANDBY = "no_standby_duty_officer"


@dataclass(frozen=True)
class Revocation:
    """The duty lease tenure to break: its holder and fence, and how long it has been silent."""

    holder: str
    fence: int
    stale_for_s: float


@dataclass(frozen=True)
class FailoverStep:
    """What this cycle calls for: a lease to revoke, an alert, or a resumed watch to note."""

    revoke: Revocation | None = None
    no_standby: str | None = None
    resumed_by: DutyHeartbeat | None = None


class FailoverWatch:
    """Follows the duty lease while the duty officer is stale.

    The tenure to revoke is the one that wrote the stale heartbeat, or one that has held the
    lease for longer than `stale_after_s` without writing any. Once the lease is revoked (or
    found free), a standby should take it and write a heartbeat within `takeover_within_s`.
    """

    def __init__(self, *, stale_after_s: float, takeover_within_s: float) -> None:
        self._stale_after_s = stale_after_s
        self._takeover_within_s = takeover_within_s
        self._held: LeaseHolder | None = None
        self._held_since: datetime | None = None
        self._waiting_since: datetime | None = None

    def step(self, audit: Audit, held: LeaseHolder | None, now: datetime) -> FailoverStep:
        """Judge one cycle's audit and who holds the duty lease (None: nobody)."""
        if not audit.stale:
            # A duty officer patrols again: the one that took over, or the stale one back.
            resumed = audit.newest if self._waiting_since is not None else None
            self._held = self._held_since = self._waiting_since = None
            return FailoverStep(resumed_by=resumed)
        revoke = None
        if held is None:
            self._held = None
            self._waiting_since = self._waiting_since or now
        else:
            if held != self._held:
                self._held, self._held_since = held, now
            if self._silent(audit, held, now):
                revoke = Revocation(held.holder, held.fence, stale_for_s=round(audit.age_s, 1))
        return FailoverStep(revoke=revoke, no_standby=self._no_standby(now))

    def revoked(self, now: datetime) -> None:
        """The revocation went through: from now on, a standby should take over."""
        self._held = self._held_since = None
        self._waiting_since = now

    def _silent(self, audit: Audit, held: LeaseHolder, now: datetime) -> bool:
        newest = audit.newest
        if newest and newest.holder == held.holder and newest.fence in (None, held.fence):
            return True
        assert self._held_since is not None
        return (now - self._held_since).total_seconds() > self._stale_after_s

    def _no_standby(self, now: datetime) -> str | None:
        if self._waiting_since is None:
            return None
        waited_s = (now - self._waiting_since).total_seconds()
        if waited_s <= self._takeover_within_s:
            return None
        return f"no duty officer took the lease and patrolled in {waited_s:.0f} s"
