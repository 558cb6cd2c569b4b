"""Completion checks: an order that claims completion has its AAR and its commits in place;
one whose work is in place but waits for integration is announced `IntegrationReady`."""

from __future__ import annotations

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView
from ironclaw.contracts.clients.ledger import LedgerConflict
from ironclaw.contracts.kit.git import GitError, git
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.observer.domain.cycle import Cycle, current_attempt

INTEGRATION_READY_AFTER_S = 30.0

log = get_logger(__name__)


def check_completed_orders(
    cycle: Cycle, *, ready_after_s: float = INTEGRATION_READY_AFTER_S
) -> None:
    """Report `RecoveryRequired(incomplete)` for completed orders whose work is not there, and
    `IntegrationReady` (once per attempt) for those whose work is there but that have waited
    `ready_after_s` since they completed: their integration message was lost or deferred."""
    completed = list(cycle.ledger.iter_orders(statuses=["completed"], theater=cycle.theater.name))
    cycle.saw["completed"] = len(completed)
    for order in completed:
        if order.recovery_reason is not None:
            continue  # already reported for this attempt
        detail = _what_is_missing(cycle, order)
        if detail is None:
            _announce_if_waiting(cycle, order, ready_after_s)
            continue
        cycle.saw["incomplete"] += 1
        cycle.require_recovery(order, order.attempt, "incomplete", detail)


def _announce_if_waiting(cycle: Cycle, order: OrderView, ready_after_s: float) -> None:
    attempt = current_attempt(order)
    finished = (attempt.finished_at if attempt else None) or order.updated_at
    if cycle.age_s(finished) < ready_after_s:
        return
    ready = ev.IntegrationReady(order_id=order.order_id, run_id=order.run_id, attempt=order.attempt)
    event = ev.NewEvent.derived(ready, order.order_id, order.attempt, actor="observer")
    try:
        result = cycle.ledger.append(order.order_id, [event], expected_version=order.version)
    except LedgerConflict:
        return  # it moved on since the listing
    if not result.duplicate:
        cycle.saw["integration_ready"] += 1
        cycle.did.append(f"integration_ready:{order.order_id}:{order.attempt}")
        log.info("observer.integration.ready", order_id=order.order_id, attempt=order.attempt)


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
