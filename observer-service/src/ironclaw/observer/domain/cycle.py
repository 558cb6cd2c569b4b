"""What one patrol cycle of one theater works with, and what it records as it goes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AttemptView, OrderView, TheaterView
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerConflict
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.kit.logging import get_logger

RecoveryReason = Literal["stalled", "looping", "orphaned", "incomplete"]

SAW = ("active", "stalled", "looping", "worktrees", "orphaned", "completed", "incomplete")
ACTIVE_STATUSES = ("claimed", "running")

log = get_logger(__name__)


@dataclass
class Cycle:
    """One theater's patrol cycle: its clients, its view of the disk, and its tally."""

    ledger: LedgerClient
    vault: VaultClient
    theater: TheaterView
    worktrees: Path
    now: datetime
    saw: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(SAW, 0)))
    did: list[str] = field(default_factory=list)
    _active: list[OrderView] | None = field(default=None, init=False, repr=False)

    def active_orders(self) -> list[OrderView]:
        """The theater's claimed and running orders, listed once per cycle."""
        if self._active is None:
            listed = self.ledger.iter_orders(statuses=ACTIVE_STATUSES, theater=self.theater.name)
            self._active = list(listed)
            self.saw["active"] = len(self._active)
        return self._active

    @property
    def repository(self) -> Path:
        return Path(self.theater.path)

    def worktree_of(self, order: OrderView, attempt: AttemptView) -> Path:
        """Where the attempt's worktree is: as the unit reported it, else the vault's layout."""
        if attempt.worktree:
            return Path(attempt.worktree)
        return self.worktrees / f"{order.order_id}-{attempt.attempt}"

    def age_s(self, moment: datetime) -> float:
        """Seconds from `moment` to this cycle's now (naive moments are UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (self.now - moment).total_seconds()

    def heartbeat_age_s(self, attempt: AttemptView) -> float:
        """Seconds since the attempt's last sign of life: its last Signal, else its start."""
        return self.age_s(last_sign_of_life(attempt))

    def heartbeat_stale(self, order: OrderView, attempt: AttemptView) -> bool:
        return self.heartbeat_age_s(attempt) > order.budget.heartbeat_timeout_s

    def require_recovery(
        self,
        order: OrderView,
        attempt: int,
        reason: RecoveryReason,
        detail: str,
        *,
        preceded_by: Sequence[ev.EventPayload] = (),
        at_version: int | None = None,
    ) -> bool:
        """Append `RecoveryRequired` at the order's version; False when the order moved on.

        `preceded_by` goes into the same append, before it (a `RescueSaved`: the duty officer
        then finds the rescue on the attempt); `at_version` replaces the order's version.
        """
        payload = ev.RecoveryRequired(
            order_id=order.order_id,
            attempt=attempt,
            reason=reason,
            detail=detail,
        )
        expected = order.version if at_version is None else at_version
        try:
            self.ledger.append(order.order_id, [*preceded_by, payload], expected_version=expected)
        except LedgerConflict:
            log.info("observer.recovery.skipped", order_id=order.order_id, reason=reason)
            return False
        log.warning(
            "observer.recovery.required",
            order_id=order.order_id,
            attempt=attempt,
            reason=reason,
            detail=detail,
        )
        for event in preceded_by:
            if isinstance(event, ev.RescueSaved):
                self.rescued(event)
        self.did.append(f"recovery_required:{order.order_id}:{attempt}:{reason}")
        return True

    def rescued(self, saved: ev.RescueSaved) -> None:
        """Log and tally a rescue once its `RescueSaved` is in the ledger."""
        log.info("observer.rescue.saved", ref=saved.ref, commit=saved.commit)
        self.did.append(f"rescued:{saved.order_id}:{saved.attempt}:{saved.commit}")


def last_sign_of_life(attempt: AttemptView) -> datetime:
    return attempt.last_signal_at or attempt.started_at or attempt.claimed_at or attempt.issued_at


def current_attempt(order: OrderView) -> AttemptView | None:
    """The order's current attempt, as the projection lists it."""
    return next((a for a in order.attempts if a.attempt == order.attempt), None)
