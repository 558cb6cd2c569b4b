"""Stalled attempts: declared dead only on two signs, a stale Signal and no progress on disk.

A dead attempt's worktree is saved to its rescue ref first, and the `RescueSaved` goes into the
same append as the `RecoveryRequired`: the duty officer's reissue then names the rescue ref, and
the next attempt starts from the saved work. The worktree itself stays until the orphan check.
"""

from __future__ import annotations

from pathlib import Path

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AttemptView, OrderView
from ironclaw.contracts.clients.ledger import LedgerNotFound
from ironclaw.contracts.kit.git import GitError
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.observer.adapters.disk import newest_change
from ironclaw.observer.domain.cycle import ACTIVE_STATUSES, Cycle, current_attempt
from ironclaw.observer.domain.rescues import save_attempt_work

log = get_logger(__name__)


def check_stalled_attempts(cycle: Cycle) -> None:
    """Report `RecoveryRequired(stalled)` for every claimed or running attempt that is dead."""
    for listed in cycle.active_orders():
        if listed.recovery_reason is not None:
            continue  # already reported for this attempt; the duty officer acts on it
        attempt = current_attempt(listed)
        if attempt is None or not cycle.heartbeat_stale(listed, attempt):
            continue
        try:
            order = cycle.ledger.get_order(listed.order_id)
        except LedgerNotFound:
            continue
        attempt = current_attempt(order)
        if order.status not in ACTIVE_STATUSES or attempt is None:
            continue  # it settled since the listing
        worktree = cycle.worktree_of(order, attempt)
        detail = _stall_detail(cycle, order, attempt, worktree)
        if detail is None:
            continue
        cycle.saw["stalled"] += 1
        saved = _rescue(cycle, order, attempt, worktree)
        rescued = [saved] if saved is not None else []
        cycle.require_recovery(order, attempt.attempt, "stalled", detail, preceded_by=rescued)


def _rescue(
    cycle: Cycle, order: OrderView, attempt: AttemptView, worktree: Path
) -> ev.RescueSaved | None:
    """The dead attempt's work saved; None when its worktree is gone or cannot be read."""
    if not worktree.is_dir():
        return None
    try:
        return save_attempt_work(cycle, order, attempt.attempt, worktree)
    except GitError as error:
        # The recovery must not wait on a broken worktree; the orphan check keeps it until saved.
        log.error("observer.rescue.failed", path=str(worktree), error=str(error))
        return None


def _stall_detail(
    cycle: Cycle, order: OrderView, attempt: AttemptView, worktree: Path
) -> str | None:
    """Why the attempt is dead, or None when one of the two signs is missing."""
    timeout = order.budget.heartbeat_timeout_s
    signal_age = cycle.heartbeat_age_s(attempt)
    if signal_age <= timeout:
        return None
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
