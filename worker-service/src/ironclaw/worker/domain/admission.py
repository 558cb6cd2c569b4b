"""Whether an issued Order may be dispatched at all: a paused theater or a disabled profile
refuses it, and the Order is settled `failed` with the reason instead of being claimed.

The duty officer pauses a theater over its daily budget (`DispatchPaused`) and disables a
profile failing in a row (`ProfileDisabled`); the worker is where that refusal bites, before a
claim and a worktree, so nothing is left issued for a patrol to re-enqueue forever.
"""

from __future__ import annotations

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView
from ironclaw.contracts.clients.ledger import (
    LedgerClient,
    LedgerConflict,
    LedgerError,
    LedgerNotFound,
)
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.contracts.tasks import ExecuteOrder
from ironclaw.worker.domain.ports import AttemptServices, event_metadata

REFUSED = "dispatch refused"


def dispatch_refusal(order: OrderView, ledger: LedgerClient) -> str | None:
    """Why `order` must not be dispatched now (`dispatch refused: ...`), or None."""
    try:
        theater = ledger.get_theater(order.theater)
    except LedgerNotFound:
        theater = None
    if theater is not None and theater.dispatch_paused:
        return f"{REFUSED}: theater {order.theater!r} is paused: {theater.dispatch_paused}"
    name = ev.profile_of(order.profile)
    try:
        profile = ledger.get_profile(name)
    except LedgerNotFound:
        return None  # no Order has settled on it yet: nothing against it
    if profile.disabled:
        return f"{REFUSED}: profile {name!r} is disabled: {profile.disabled_reason}"
    return None


def refuse_dispatch(
    message: ExecuteOrder, order: OrderView, services: AttemptServices, reason: str
) -> bool:
    """Settle the issued attempt `failed` with `reason`, at the version read; False if it moved.

    Retryable: an operator may retry it once the theater resumes or the profile is enabled.
    """
    failed = ev.OrderFailed(
        order_id=order.order_id,
        run_id=order.run_id,
        attempt=message.attempt,
        reason=reason,
        retryable=True,
    )
    event = ev.NewEvent.of(failed, metadata=event_metadata(message, services.worker_id))
    log = get_logger()
    try:
        services.ledger.append(
            ev.order_stream(order.order_id), [event], expected_version=order.version
        )
    except LedgerConflict:
        log.info("worker.order.skipped", why="the order moved on before it could be refused")
        return False
    except LedgerError as error:
        if error.status >= 500:
            raise
        log.info("worker.order.skipped", why=f"the ledger refused the refusal: {error.detail}")
        return False
    log.warning("worker.order.refused", reason=reason)
    return True
