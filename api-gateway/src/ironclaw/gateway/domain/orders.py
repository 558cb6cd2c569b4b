"""Operator actions on one Order."""

from __future__ import annotations

from typing import Final

from ironclaw.contracts.api import OrderView
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerError
from ironclaw.contracts.events import OrderIssued, order_stream
from ironclaw.contracts.kit.errors import Conflict
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.contracts.models import OrderStatus, RunStatus
from ironclaw.gateway.domain.runs import read_order, read_run

RETRYABLE: Final = frozenset(
    {OrderStatus.FAILED, OrderStatus.INTEGRATION_FAILED, OrderStatus.BLOCKED}
)
RETRY_REASON: Final = "operator retry"


def retry_order(ledger: LedgerClient, order_id: str) -> OrderView:
    """Reissue a failed, integration-failed or blocked order as its next attempt.

    The `OrderIssued` is appended at the version just read, so of two concurrent retries one
    wins and the other sees the order already issued.
    """
    order = read_order(ledger, order_id)
    if order.status not in RETRYABLE:
        raise Conflict(
            f"order {order_id!r} is {order.status.value}; only failed, integration_failed or "
            "blocked orders can be retried"
        )
    run = read_run(ledger, order.run_id)
    if run.status == RunStatus.CANCELLED:
        raise Conflict(f"order {order_id!r} belongs to run {run.run_id!r}, which is cancelled")
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
        get_logger().info("gateway.order.retried", previous_status=order.status.value)
    return read_order(ledger, order_id)
