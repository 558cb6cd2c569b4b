"""Runs as the public API sees them: submit one, read it, cancel it."""

from __future__ import annotations

from typing import Final

from ironclaw.contracts.api import AppendRequest, OrderView, RunView, TheaterView
from ironclaw.contracts.clients.ledger import (
    LedgerClient,
    LedgerConflict,
    LedgerError,
    LedgerNotFound,
)
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.events import OrderCancelled, RunCancelled, RunCancelRequested, run_stream
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.errors import Conflict, NotFound
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.contracts.models import ORDER_SETTLED, RUN_SETTLED, OrderStatus
from ironclaw.gateway.domain.submissions import Submission, run_received

DEFAULT_THEATER: Final = "default"
CANCEL_REASON: Final = "cancelled by operator"
_CANCEL_ROUNDS: Final = 5
_BATCH_LIMIT: Final = 100  # AppendBatch.appends holds at most this many appends


def ensure_theater(ledger: LedgerClient, vault: VaultClient, name: str) -> TheaterView:
    """The theater a run will work in; `default` is created through the vault on first use."""
    try:
        return ledger.get_theater(name)
    except LedgerNotFound:
        if name == DEFAULT_THEATER:
            return vault.ensure_default_theater()
        raise NotFound(
            f"theater {name!r} is not registered; register it with POST /theaters"
        ) from None


def submit_run(
    ledger: LedgerClient, vault: VaultClient, submission: Submission, *, request_id: str | None
) -> str:
    """Start a Run: append its `RunReceived` to a new run stream; returns the run id."""
    ensure_theater(ledger, vault, submission.theater)
    run_id = new_id("run")
    event = run_received(submission, run_id, request_id=request_id)
    ledger.append(run_stream(run_id), [event], expected_version=0)
    with bound_context(run_id=run_id):
        get_logger().info(
            "gateway.run.received",
            theater=submission.theater,
            source=submission.source.value,
            explicit_orders=len(submission.orders),
        )
    return run_id


def read_run(ledger: LedgerClient, run_id: str) -> RunView:
    """The run's view from the ledger; `NotFound` for an unknown run."""
    try:
        return ledger.get_run(run_id)
    except LedgerNotFound:
        raise NotFound(f"run {run_id!r} does not exist") from None


def read_order(ledger: LedgerClient, order_id: str) -> OrderView:
    """The order's view from the ledger; `NotFound` for an unknown order."""
    try:
        return ledger.get_order(order_id)
    except LedgerNotFound:
        raise NotFound(f"order {order_id!r} does not exist") from None


def cancel_run(ledger: LedgerClient, run_id: str, *, requested_by: str | None) -> RunView:
    """Cancel a run: nothing new starts, every order that can stop is cancelled, and the run
    settles `cancelled`; a settled run is returned unchanged, a second cancel appends nothing.

    `RunCancelRequested` goes first, once. Then the orders' `OrderCancelled` are appended at the
    versions just read, in one batch with the run's `RunCancelled`: if the planner adds orders or
    a unit moves meanwhile, the batch conflicts, nothing is written, and the round is repeated on
    fresh state. Running units see their order cancelled at their next signal and stop.

    An `integrating` order is left to land (its promotion may already have moved the mainline):
    while one is, the run gets no `RunCancelled` here; co settles it `cancelled` once the order
    is integrated or integration_failed. The view returned then still shows the run's status,
    with `cancel_requested` set.
    """
    run = read_run(ledger, run_id)
    if run.status in RUN_SETTLED:
        return run
    with bound_context(run_id=run_id):
        if not run.cancel_requested:
            ledger.append(
                run_stream(run_id),
                [RunCancelRequested(run_id=run_id, requested_by=requested_by)],
                expected_version=None,
            )
        for _ in range(_CANCEL_ROUNDS):
            run = read_run(ledger, run_id)
            if run.status in RUN_SETTLED:
                return run
            try:
                landing = _cancel_at(ledger, run)
            except LedgerConflict:
                continue
            except LedgerError as error:
                if error.status != 422:  # 422: an order moved on meanwhile; read again
                    raise
                continue
            if landing:
                get_logger().info("gateway.run.cancel_pending", integrating=landing)
            else:
                get_logger().info("gateway.run.cancelled", orders=len(run.orders))
            return read_run(ledger, run_id)
    raise Conflict(f"run {run_id!r} kept changing while it was being cancelled; try again")


def _cancel_at(ledger: LedgerClient, run: RunView) -> list[str]:
    """Cancel the run's orders at the versions read, and the run itself unless an order is
    integrating; returns the integrating orders' ids."""
    orders = list(ledger.iter_orders(run_id=run.run_id))
    landing = [order.order_id for order in orders if order.status == OrderStatus.INTEGRATING]
    appends = [
        LedgerClient.request(
            order.order_id,
            [OrderCancelled(order_id=order.order_id, run_id=run.run_id, reason=CANCEL_REASON)],
            expected_version=order.version,
        )
        for order in orders
        if order.status not in ORDER_SETTLED and order.status != OrderStatus.INTEGRATING
    ]
    final: list[AppendRequest] = []
    if not landing:
        final.append(
            LedgerClient.request(
                run_stream(run.run_id),
                [RunCancelled(run_id=run.run_id, reason=CANCEL_REASON)],
                expected_version=run.version,
            )
        )
    # Orders beyond one batch are cancelled first; the last batch settles the run.
    split = max(0, len(appends) - (_BATCH_LIMIT - len(final)))
    early, last = appends[:split], [*appends[split:], *final]
    for start in range(0, len(early), _BATCH_LIMIT):
        ledger.append_batch(early[start : start + _BATCH_LIMIT])
    if last:
        ledger.append_batch(last)
    return landing
