"""`worker.execute_order`: read the Order, claim its attempt, run it; duplicates drop."""

from __future__ import annotations

import time

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView
from ironclaw.contracts.clients.ledger import (
    LedgerClient,
    LedgerConflict,
    LedgerError,
    LedgerNotFound,
)
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.contracts.models import OrderStatus
from ironclaw.contracts.tasks import ExecuteOrder
from ironclaw.worker.domain.admission import dispatch_refusal, refuse_dispatch
from ironclaw.worker.domain.attempt import Attempt
from ironclaw.worker.domain.ports import AttemptServices, event_metadata


def execute_order(message: ExecuteOrder, services: AttemptServices) -> str:
    """Run the attempt `message` names if it is still issued and this delivery claims it.

    Returns what happened: `skipped` (nothing to do), `duplicate` (claimed by another
    delivery), `dispatch_refused` (its theater is paused or its profile disabled: settled
    `failed` unclaimed), the attempt's outcome (`completed`, `failed`, `blocked`), or `refused`
    when the Order was cancelled or reissued while the attempt ran.
    """
    with bound_context(run_id=message.run_id, order_id=message.order_id, attempt=message.attempt):
        order = _read_order(message, services.ledger)
        if order is None:
            return "skipped"
        refusal = dispatch_refusal(order, services.ledger)
        if refusal is not None:
            refused = refuse_dispatch(message, order, services, refusal)
            return "dispatch_refused" if refused else "skipped"
        if not _claim(message, order, services):
            return "duplicate"
        return Attempt(message, order, services, claimed_at=time.monotonic()).run()


def _read_order(message: ExecuteOrder, ledger: LedgerClient) -> OrderView | None:
    """The Order when this message's attempt is issued and unclaimed; else None, logged."""
    log = get_logger()
    try:
        order = ledger.get_order(message.order_id)
    except LedgerNotFound:
        log.warning("worker.order.skipped", why="the order does not exist")
        return None
    if order.run_id != message.run_id:
        log.warning("worker.order.skipped", why=f"the order belongs to run {order.run_id}")
        return None
    if order.attempt != message.attempt:
        why = f"attempt {message.attempt} is not current (the order is at {order.attempt})"
        log.info("worker.order.skipped", why=why)
        return None
    if order.status != OrderStatus.ISSUED:
        log.info("worker.order.skipped", why=f"the order is {order.status.value}, not issued")
        return None
    return order


def _claim(message: ExecuteOrder, order: OrderView, services: AttemptServices) -> bool:
    """Append `OrderClaimed` at the version just read: exactly one delivery wins."""
    claim = ev.OrderClaimed(
        order_id=order.order_id,
        run_id=order.run_id,
        attempt=message.attempt,
        worker_id=services.worker_id,
        lease_s=order.budget.heartbeat_timeout_s,
    )
    event = ev.NewEvent.of(claim, metadata=event_metadata(message, services.worker_id))
    log = get_logger()
    try:
        services.ledger.append(
            ev.order_stream(order.order_id), [event], expected_version=order.version
        )
    except LedgerConflict:
        log.info("worker.order.skipped", why="another delivery claimed the attempt first")
        return False
    except LedgerError as error:
        if error.status >= 500:
            raise
        log.info("worker.order.skipped", why=f"the ledger refused the claim: {error.detail}")
        return False
    log.info("worker.attempt.claimed", worker_id=services.worker_id)
    return True
