"""Reissue-or-fail: what the duty officer does with an attempt that is dead or needs recovery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AttemptView, OrderView, StreamPage
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerConflict
from ironclaw.contracts.kit.logging import get_logger

log = get_logger()


@dataclass(frozen=True)
class Cause:
    """Why an attempt is given up: the reissue's `reason`, and the failure's wording."""

    reissue_reason: str
    failure: str


LEASE_EXPIRED = Cause(reissue_reason="lease_expired", failure="lease expired")
OVERDUE = Cause(reissue_reason="overdue", failure="past its TTL")


def recovery_cause(order: OrderView) -> Cause:
    """The cause of a reissue asked for by `RecoveryRequired` (the observer's verdict)."""
    return Cause(
        reissue_reason="recovery_required",
        failure=f"recovery required ({order.recovery_reason})",
    )


def current_attempt(order: OrderView) -> AttemptView | None:
    """The attempt view of the Order's current attempt, if the ledger listed it."""
    return next((a for a in order.attempts if a.attempt == order.attempt), None)


def lease_lapsed(order: OrderView, attempt: AttemptView, now: datetime, *, grace_s: float) -> bool:
    """Two signs of death: the lease ran out over `grace_s` ago, and no Signal for the heartbeat
    timeout. A slow unit that still signals renews its lease, so it never gets here."""
    if attempt.lease_expires_at is None:
        return False
    if now <= attempt.lease_expires_at + timedelta(seconds=grace_s):
        return False
    last_sign_of_life = attempt.last_signal_at or attempt.claimed_at or attempt.issued_at
    return now - last_sign_of_life > timedelta(seconds=order.budget.heartbeat_timeout_s)


def past_ttl(order: OrderView, attempt: AttemptView, now: datetime, *, grace_s: float) -> bool:
    """The attempt has run past the Order's TTL and `grace_s`: its unit stops itself at the
    TTL, so one still at work after it is wedged, however well it signals."""
    started = attempt.started_at or attempt.claimed_at
    if started is None:
        return False
    return now > started + timedelta(seconds=order.budget.ttl_s + grace_s)


def recovery_is_current(order: OrderView, page: StreamPage) -> bool:
    """Whether the Order's latest `RecoveryRequired` is about its current attempt.

    `recovery_reason` is reset by a reissue, but a late verdict on an old attempt sets it again.
    """
    verdicts = [e for e in page.events if e.type == ev.RecoveryRequired.event_type]
    return bool(verdicts) and verdicts[-1].data.get("attempt") == order.attempt


def backoff_ends(attempt: AttemptView, *, base_s: float) -> datetime:
    """When attempt n+1 may be issued: base * 2^(n-1) seconds after attempt n was."""
    return attempt.issued_at + timedelta(seconds=base_s * 2 ** (attempt.attempt - 1))


def reissue_or_fail(
    ledger: LedgerClient,
    order: OrderView,
    attempt: AttemptView,
    cause: Cause,
    now: datetime,
    *,
    backoff_base_s: float,
) -> str | None:
    """Issue the next attempt within the retry policy, else fail the Order; what was done.

    Appends at the Order's version: a conflict means someone else acted, and nothing is done.
    None also while the backoff since the current attempt has not run out.
    """
    event: ev.EventPayload
    if order.attempt > order.budget.retries:
        event = ev.OrderFailed(
            order_id=order.order_id,
            run_id=order.run_id,
            attempt=order.attempt,
            reason=f"retries exhausted: {cause.failure}",
        )
        done = f"failed {order.order_id}#{order.attempt}"
    elif now < backoff_ends(attempt, base_s=backoff_base_s):
        return None
    else:
        event = ev.OrderIssued(
            order_id=order.order_id,
            run_id=order.run_id,
            attempt=order.attempt + 1,
            reason=cause.reissue_reason,
            rescue_ref=attempt.rescue_ref,
        )
        done = f"reissued {order.order_id}#{order.attempt + 1}"
    stored = ev.NewEvent.derived(event, order.order_id, order.attempt, actor="duty")
    try:
        ledger.append(order.order_id, [stored], expected_version=order.version)
    except LedgerConflict:
        log.info("duty.order.moved_on", order_id=order.order_id, attempt=order.attempt)
        return None
    log.info("duty.order." + done.split(" ", 1)[0], order_id=order.order_id, cause=cause.failure)
    return done


def request_integration(ledger: LedgerClient, order: OrderView, *state: str) -> bool:
    """Append the duty officer's `IntegrationReady` for the Order's attempt (and `state`, when
    it asks again about a later state) at the Order's version; False when it was already
    asked or the Order moved on."""
    ready = ev.IntegrationReady(order_id=order.order_id, run_id=order.run_id, attempt=order.attempt)
    event = ev.NewEvent.derived(ready, order.order_id, order.attempt, *state, actor="duty")
    try:
        result = ledger.append(order.order_id, [event], expected_version=order.version)
    except LedgerConflict:
        return False
    if not result.duplicate:
        log.info("duty.order.integration_requested", order_id=order.order_id, state=list(state))
    return not result.duplicate
