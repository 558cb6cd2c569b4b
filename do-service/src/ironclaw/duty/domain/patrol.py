"""One duty officer patrol cycle: overdue, dead and unintegrated Orders, failing profiles and
spent budgets, from the projections.

Every read is a status query on the Orders projection (indexed), plus the stream of an Order
the cycle acts on: the cost of a cycle grows with active Orders, never with history.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.contracts.models import OrderStatus
from ironclaw.contracts.tasks import ExecuteOrder
from ironclaw.duty.domain.budgets import Budgets, enforce_budgets
from ironclaw.duty.domain.profiles import disable_failing_profiles
from ironclaw.duty.domain.recovery import (
    LEASE_EXPIRED,
    OVERDUE,
    Cause,
    current_attempt,
    lease_lapsed,
    past_ttl,
    recovery_cause,
    recovery_is_current,
    reissue_or_fail,
    request_integration,
)
from ironclaw.duty.domain.stragglers import RunMessages, StragglerWatch

PATROL_SCOPE = "garrison"
PATROL_STREAM = ev.patrol_stream("duty")

log = get_logger()


class Enqueuer(RunMessages, Protocol):
    """Puts fleet messages on the broker: `worker.execute_order` and the co service's."""

    def execute_order(self, task: ExecuteOrder) -> None: ...


@dataclass(frozen=True)
class PatrolPolicy:
    """The duty officer's timings (the Orders' own budgets give the rest)."""

    lease_grace_s: float = 15.0
    backoff_base_s: float = 10.0
    integration_resend_after_s: float = 120.0
    message_resend_after_s: float = 120.0
    reply_retries: int = 5
    limit: int = 1000  # Orders per page; a cycle reads every page
    profile_disable_after: int = 5  # failures in a row
    budgets: Budgets = field(default_factory=Budgets)


@dataclass
class _Cycle:
    """What one cycle saw and did, for its `PatrolCompleted`."""

    now: datetime
    saw: Counter[str] = field(default_factory=Counter)
    did: list[str] = field(default_factory=list)


def utc_now() -> datetime:
    return datetime.now(UTC)


class DutyPatrol:
    """The duty officer's patrol: `cycle()` runs one, the loop around it lives elsewhere.

    It remembers when it re-enqueued each (Order, attempt), so a message goes out at most once
    per claim timeout; losing that on restart costs at most one duplicate, which the claim
    protocol drops.
    """

    def __init__(
        self,
        ledger: LedgerClient,
        enqueuer: Enqueuer,
        policy: PatrolPolicy,
        *,
        holder: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._ledger = ledger
        self._enqueuer = enqueuer
        self._policy = policy
        self._holder = holder
        self._clock = clock
        self._reenqueued: dict[tuple[str, int], datetime] = {}
        self._stragglers_watch = StragglerWatch(
            ledger,
            enqueuer,
            resend_after_s=policy.message_resend_after_s,
            reply_retries=policy.reply_retries,
        )

    def cycle(self) -> ev.PatrolCompleted:
        """Patrol once and append the cycle's `PatrolCompleted` on `patrol-duty`."""
        started = time.monotonic()
        cycle = _Cycle(now=self._clock())
        self._unclaimed(cycle)
        self._active(cycle)
        self._unintegrated(cycle)
        self._stragglers(cycle)
        self._health(cycle)
        completed = ev.PatrolCompleted(
            scope=PATROL_SCOPE,
            patrol="duty",
            holder=self._holder,
            saw=dict(cycle.saw),
            did=cycle.did,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        self._ledger.append(PATROL_STREAM, [completed], expected_version=None)
        log.info("duty.patrol.completed", saw=completed.saw, did=completed.did)
        return completed

    def _health(self, cycle: _Cycle) -> None:
        """(f) profiles failing in a row are disabled, (g) theaters over budget are paused."""
        cycle.did += disable_failing_profiles(
            self._ledger, cycle.saw, disable_after=self._policy.profile_disable_after
        )
        cycle.did += enforce_budgets(self._ledger, self._policy.budgets, cycle.saw, now=cycle.now)

    def _orders(self, *statuses: OrderStatus) -> list[OrderView]:
        return list(self._ledger.iter_orders(statuses=statuses, page_size=self._policy.limit))

    def _unclaimed(self, cycle: _Cycle) -> None:
        """(a) `issued` and unclaimed past the claim timeout: send the message again."""
        issued = self._orders(OrderStatus.ISSUED)
        cycle.saw["issued"] = len(issued)
        live = {(o.order_id, o.attempt) for o in issued}
        self._reenqueued = {k: v for k, v in self._reenqueued.items() if k in live}
        for order in issued:
            attempt = current_attempt(order)
            timeout = timedelta(seconds=order.budget.claim_timeout_s)
            if attempt is None or cycle.now - attempt.issued_at <= timeout:
                continue
            cycle.saw["unclaimed_overdue"] += 1
            last = self._reenqueued.get((order.order_id, order.attempt))
            if last is not None and cycle.now - last < timeout:
                continue
            with bound_context(order_id=order.order_id, attempt=order.attempt):
                if self._reenqueue(order):
                    self._reenqueued[(order.order_id, order.attempt)] = cycle.now
                    cycle.did.append(f"reenqueued {order.order_id}#{order.attempt}")

    def _reenqueue(self, order: OrderView) -> bool:
        """`worker.execute_order` for the current attempt, caused by its `OrderIssued`."""
        page = self._ledger.read_stream(order.order_id)
        issued = [
            e
            for e in page.events
            if e.type == ev.OrderIssued.event_type and e.data.get("attempt") == order.attempt
        ]
        if not issued:
            return False
        task = ExecuteOrder(
            event_id=issued[-1].id,
            order_id=order.order_id,
            run_id=order.run_id,
            attempt=order.attempt,
        )
        self._enqueuer.execute_order(task)
        log.info("duty.order.reenqueued")
        return True

    def _active(self, cycle: _Cycle) -> None:
        """(b) lease lapsed and silent, (c) recovery required, (f) past its TTL: reissue or
        fail."""
        active = self._orders(OrderStatus.CLAIMED, OrderStatus.RUNNING)
        cycle.saw["active"] = len(active)
        for order in active:
            attempt = current_attempt(order)
            if attempt is None:
                continue
            cause: Cause | None = None
            if order.recovery_reason and recovery_is_current(
                order, self._ledger.read_stream(order.order_id)
            ):
                cycle.saw["recovery_required"] += 1
                cause = recovery_cause(order)
            elif lease_lapsed(order, attempt, cycle.now, grace_s=self._policy.lease_grace_s):
                cycle.saw["lease_expired"] += 1
                cause = LEASE_EXPIRED
            elif past_ttl(order, attempt, cycle.now, grace_s=self._policy.lease_grace_s):
                cycle.saw["overdue"] += 1
                cause = OVERDUE
            if cause is None:
                continue
            with bound_context(order_id=order.order_id, attempt=order.attempt):
                done = reissue_or_fail(
                    self._ledger,
                    order,
                    attempt,
                    cause,
                    cycle.now,
                    backoff_base_s=self._policy.backoff_base_s,
                )
            if done is None:
                cycle.saw["held_back"] += 1
            else:
                cycle.did.append(done)

    def _stragglers(self, cycle: _Cycle) -> None:
        """(e) Runs and promotions whose message was lost: re-sent from the ledger."""
        found = self._stragglers_watch.cycle(cycle.now)
        cycle.saw.update(found.saw)
        cycle.did.extend(found.did)

    def _unintegrated(self, cycle: _Cycle) -> None:
        """(d) `completed` for long without integration: `IntegrationReady` once per attempt."""
        completed = self._orders(OrderStatus.COMPLETED)
        cycle.saw["completed"] = len(completed)
        wait = timedelta(seconds=self._policy.integration_resend_after_s)
        for order in completed:
            attempt = current_attempt(order)
            finished = (attempt.finished_at if attempt else None) or order.updated_at
            if cycle.now - finished < wait:
                continue
            cycle.saw["unintegrated"] += 1
            if request_integration(self._ledger, order):
                cycle.did.append(f"integration_ready {order.order_id}#{order.attempt}")
