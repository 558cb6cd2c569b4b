"""Stalled attempts: declared dead only on two signs, a stale Signal and no progress on disk."""

from __future__ import annotations

from datetime import datetime

from ironclaw.contracts.api import AttemptView, OrderView
from ironclaw.contracts.clients.ledger import LedgerNotFound
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.observer.adapters.disk import newest_change
from ironclaw.observer.domain.cycle import Cycle, current_attempt

ACTIVE_STATUSES = ("claimed", "running")

log = get_logger(__name__)


def check_stalled_attempts(cycle: Cycle) -> None:
    """Report `RecoveryRequired(stalled)` for every claimed or running attempt that is dead."""
    active = list(cycle.ledger.iter_orders(statuses=ACTIVE_STATUSES, theater=cycle.theater.name))
    cycle.saw["active"] = len(active)
    for listed in active:
        if listed.recovery_reason is not None:
            continue  # already reported for this attempt; the duty officer acts on it
        attempt = current_attempt(listed)
        if attempt is None or not _heartbeat_stale(cycle, listed, attempt):
            continue
        try:
            order = cycle.ledger.get_order(listed.order_id)
        except LedgerNotFound:
            continue
        attempt = current_attempt(order)
        if order.status not in ACTIVE_STATUSES or attempt is None:
            continue  # it settled since the listing
        detail = _stall_detail(cycle, order, attempt)
        if detail is None:
            continue
        cycle.saw["stalled"] += 1
        cycle.require_recovery(order, attempt.attempt, "stalled", detail)


def _last_sign_of_life(attempt: AttemptView) -> datetime:
    return attempt.last_signal_at or attempt.started_at or attempt.claimed_at or attempt.issued_at


def _heartbeat_stale(cycle: Cycle, order: OrderView, attempt: AttemptView) -> bool:
    return cycle.age_s(_last_sign_of_life(attempt)) > order.budget.heartbeat_timeout_s


def _stall_detail(cycle: Cycle, order: OrderView, attempt: AttemptView) -> str | None:
    """Why the attempt is dead, or None when one of the two signs is missing."""
    timeout = order.budget.heartbeat_timeout_s
    signal_age = cycle.age_s(_last_sign_of_life(attempt))
    if signal_age <= timeout:
        return None
    worktree = cycle.worktree_of(order, attempt)
    changed = newest_change(worktree)
    if changed is None:
        return f"no signal for {signal_age:.0f}s (timeout {timeout}s) and its worktree is gone"
    disk_age = cycle.now.timestamp() - changed
    if disk_age <= timeout:
        log.info(
            "observer.attempt.slow_but_alive",
            order_id=order.order_id,
            attempt=attempt.attempt,
            signal_age_s=round(signal_age),
        )
        return None
    return (
        f"no signal for {signal_age:.0f}s and no change on disk for {disk_age:.0f}s "
        f"(timeout {timeout}s)"
    )
