"""Operator actions on one Order."""

from __future__ import annotations

from typing import Final

from ironclaw.contracts.api import OrderRetried, OrderView, RunView
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerError
from ironclaw.contracts.events import OrderIssued, order_stream
from ironclaw.contracts.kit.errors import Conflict
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.contracts.models import RUN_SETTLED, OrderStatus, RunStatus
from ironclaw.gateway.domain.runs import read_order, read_run

# Settled without reaching the mainline (a blocked order is settled `cancelled` by co).
RETRYABLE: Final = frozenset(
    {
        OrderStatus.FAILED,
        OrderStatus.INTEGRATION_FAILED,
        OrderStatus.BLOCKED,
        OrderStatus.CANCELLED,
    }
)
RETRY_REASON: Final = "operator retry"


def retry_order(ledger: LedgerClient, order_id: str) -> OrderRetried:
    """Reissue an order that settled without integrating as its next attempt, on a fresh
    worktree from the mainline; the operator's call, so outside the order's retry budget.

    `Conflict` (409, nothing written) says why when it may not be: the order has not settled
    (its current attempt is under way: a repeated retry never issues a second one), it is
    integrated, its run is cancelled, or an order it depends on has not integrated. The
    `OrderIssued` is appended at the version just read, so of two concurrent retries one wins
    and the other sees the order issued.
    """
    order = read_order(ledger, order_id)
    if order.status not in RETRYABLE:
        raise Conflict(_why_not_retryable(order))
    run = read_run(ledger, order.run_id)
    if run.status == RunStatus.CANCELLED or run.cancel_requested:
        state = "cancelled" if run.status == RunStatus.CANCELLED else "being cancelled"
        raise Conflict(f"order {order_id!r} belongs to run {run.run_id!r}, which is {state}")
    waiting = _dependencies_not_integrated(ledger, order)
    if waiting:
        raise Conflict(
            f"order {order_id!r} depends on {waiting}, which did not integrate; "
            "retry the dependencies first"
        )
    reissue = OrderIssued(
        order_id=order_id, run_id=order.run_id, attempt=order.attempt + 1, reason=RETRY_REASON
    )
    try:
        ledger.append(order_stream(order_id), [reissue], expected_version=order.version)
    except LedgerError as error:
        if error.status not in (409, 422):
            raise
        raise Conflict(
            f"order {order_id!r} changed while it was being retried; read it again ({error.detail})"
        ) from None
    with bound_context(run_id=order.run_id, order_id=order_id, attempt=reissue.attempt):
        get_logger().info(
            "gateway.order.retried", previous_status=order.status.value, run=run.status.value
        )
    view = read_order(ledger, order_id)
    return OrderRetried(
        **dict(view), run_status=run.status, note=_what_it_changes(run, view.attempt)
    )


def _why_not_retryable(order: OrderView) -> str:
    order_id, status = order.order_id, order.status.value
    if order.status == OrderStatus.INTEGRATED:
        return f"order {order_id!r} is integrated: its work is on the mainline"
    if order.status == OrderStatus.PLANNED:
        return f"order {order_id!r} is planned: it has not been dispatched yet"
    return (
        f"order {order_id!r} is {status}: attempt {order.attempt} is under way; only an order "
        "that settled failed, integration_failed, blocked or cancelled can be retried"
    )


def _dependencies_not_integrated(ledger: LedgerClient, order: OrderView) -> list[str]:
    """`key (status)` of each order `order` depends on that is not integrated."""
    found = []
    for dependency_id in order.depends_on:
        dependency = read_order(ledger, dependency_id)
        if dependency.status != OrderStatus.INTEGRATED:
            found.append(f"{dependency.key} ({dependency.status.value})")
    return found


def _what_it_changes(run: RunView, attempt: int) -> str:
    if run.status in RUN_SETTLED:
        return (
            f"attempt {attempt} issued; run {run.run_id} already ended {run.status.value} and "
            "keeps that outcome (a settled run is final, and no new reply is sent): the "
            "attempt's work still reaches the mainline if it integrates, while the orders "
            "cancelled because of this one stay cancelled until retried themselves"
        )
    return f"attempt {attempt} issued; run {run.run_id} is {run.status.value} and goes on with it"
