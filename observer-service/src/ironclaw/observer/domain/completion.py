"""Completion checks: an order that claims completion has its AAR and its commits in place."""

from __future__ import annotations

from ironclaw.contracts.api import OrderView
from ironclaw.contracts.kit.git import GitError, git
from ironclaw.observer.domain.cycle import Cycle, current_attempt


def check_completed_orders(cycle: Cycle) -> None:
    """Report `RecoveryRequired(incomplete)` for completed orders whose work is not there."""
    completed = list(cycle.ledger.iter_orders(statuses=["completed"], theater=cycle.theater.name))
    cycle.saw["completed"] = len(completed)
    for order in completed:
        if order.recovery_reason is not None:
            continue  # already reported for this attempt
        detail = _what_is_missing(cycle, order)
        if detail is None:
            continue
        cycle.saw["incomplete"] += 1
        cycle.require_recovery(order, order.attempt, "incomplete", detail)


def _what_is_missing(cycle: Cycle, order: OrderView) -> str | None:
    attempt = current_attempt(order)
    if attempt is None:
        return f"attempt {order.attempt} is not in the ledger"
    if attempt.aar is None:
        return "no after-action report"
    missing = [c for c in attempt.commits if not _commit_exists(cycle, c)]
    if missing:
        return "commits missing from the theater repository: " + ", ".join(missing)
    return None


def _commit_exists(cycle: Cycle, commit: str) -> bool:
    try:
        git(cycle.repository, "cat-file", "-e", f"{commit}^{{commit}}")
    except GitError:
        return False
    return True
