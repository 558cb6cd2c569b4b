"""The audit of the duty officer's latest heartbeats: is it alive, is its backlog shrinking?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

from ironclaw.contracts import events as ev

# What is overdue in a duty cycle. `held_back` (reissues waiting out their backoff) is not added:
# each of those is already counted as `lease_expired` or `recovery_required`.
BACKLOG_KEYS = ("unclaimed_overdue", "lease_expired", "recovery_required")

STALE = "duty_heartbeat_stale"
GROWING = "duty_backlog_growing"


@dataclass(frozen=True)
class DutyHeartbeat:
    """One duty cycle as the ledger recorded it: who ran it, under which fence, what was overdue."""

    holder: str
    fence: int | None
    backlog: int
    recorded_at: datetime

    @classmethod
    def of(cls, completed: ev.PatrolCompleted, recorded_at: datetime) -> DutyHeartbeat:
        return cls(
            holder=completed.holder,
            fence=completed.fence,
            backlog=backlog_of(completed.saw),
            recorded_at=recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=UTC),
        )


def backlog_of(saw: Mapping[str, int]) -> int:
    """How many Orders a duty cycle saw overdue."""
    return sum(saw.get(key, 0) for key in BACKLOG_KEYS)


@dataclass(frozen=True)
class AuditPolicy:
    """When the duty officer counts as stale, and how long a growing backlog may grow."""

    stale_after_s: float
    growth_cycles: int


@dataclass(frozen=True)
class Audit:
    """What one look at the duty officer's heartbeats found."""

    newest: DutyHeartbeat | None
    age_s: float
    stale: bool
    backlogs: tuple[int, ...]
    growing: bool

    def findings(self) -> dict[str, str]:
        """The conditions to alert on, by kind, with what an operator needs to know."""
        found = {}
        if self.stale:
            if self.newest is None:
                found[STALE] = f"no duty patrol heartbeat in the {self.age_s:.0f} s watched"
            else:
                found[STALE] = (
                    f"last duty patrol {self.age_s:.0f} s ago, by {self.newest.holder}"
                    f" at fence {self.newest.fence}"
                )
        if self.growing:
            trend = " -> ".join(str(b) for b in self.backlogs)
            found[GROWING] = (
                f"overdue backlog grew {len(self.backlogs) - 1} duty cycles in a row: {trend}"
            )
        return found


def audit_duty(
    beats: Sequence[DutyHeartbeat], now: datetime, policy: AuditPolicy, *, watching_since: datetime
) -> Audit:
    """Audit the latest heartbeats (oldest first); with none, age counts from `watching_since`."""
    newest = beats[-1] if beats else None
    since = newest.recorded_at if newest else watching_since
    age_s = max(0.0, (now - since).total_seconds())
    window = tuple(b.backlog for b in beats[-(policy.growth_cycles + 1) :])
    growing = len(window) == policy.growth_cycles + 1 and all(
        later > earlier for earlier, later in pairwise(window)
    )
    return Audit(
        newest=newest,
        age_s=age_s,
        stale=age_s > policy.stale_after_s,
        backlogs=window,
        growing=growing,
    )
