"""What one patrol cycle of one theater works with, and what it records as it goes."""

from __future__ import annotations

from collections import Counter
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

SAW = ("active", "stalled", "worktrees", "orphaned", "completed", "incomplete")

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

    def require_recovery(
        self, order: OrderView, attempt: int, reason: RecoveryReason, detail: str
    ) -> bool:
        """Append `RecoveryRequired` at the order's version; False when the order moved on."""
        payload = ev.RecoveryRequired(
            order_id=order.order_id,
            attempt=attempt,
            reason=reason,
            detail=detail,
        )
        try:
            self.ledger.append(order.order_id, [payload], expected_version=order.version)
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
        self.did.append(f"recovery_required:{order.order_id}:{attempt}:{reason}")
        return True


def current_attempt(order: OrderView) -> AttemptView | None:
    """The order's current attempt, as the projection lists it."""
    return next((a for a in order.attempts if a.attempt == order.attempt), None)
