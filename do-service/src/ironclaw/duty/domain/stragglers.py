"""Work whose message the broker lost: Runs and promotions re-driven from the ledger.

A flushed Redis or a worker killed mid-task drops messages; the ledger still says what each
one was for. A Run that sits `received` or `planning` past `resend_after_s` gets `co.plan_run`
again; one `executing` or `integrating` with nothing in flight that long gets `co.order_settled`
again; an Order `integrating` that long (its integrator died mid-promotion) gets another
`IntegrationReady`; a settled Run whose reply failed gets `gateway.deliver_reply` again, with
the wait doubling after each failure, up to `reply_retries` tries. Every task is idempotent, so
a resend that crosses the original is harmless.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import RunView
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.contracts.models import ORDER_SETTLED, OrderStatus, RunStatus
from ironclaw.contracts.tasks import DeliverReply, OrderSettled, PlanRun
from ironclaw.duty.domain.recovery import request_integration

log = get_logger()

UNPLANNED = (RunStatus.RECEIVED, RunStatus.PLANNING)
UNDER_WAY = (RunStatus.EXECUTING, RunStatus.INTEGRATING)
# While an Order is in one of these, a message is still on its way or a unit is at work.
IN_FLIGHT = frozenset(
    {
        OrderStatus.ISSUED,
        OrderStatus.CLAIMED,
        OrderStatus.RUNNING,
        OrderStatus.COMPLETED,
        OrderStatus.INTEGRATING,
    }
)


class RunMessages(Protocol):
    """Puts the co service's messages on the broker."""

    def plan_run(self, task: PlanRun) -> None: ...

    def order_settled(self, task: OrderSettled) -> None: ...

    def deliver_reply(self, task: DeliverReply) -> None: ...


@dataclass
class Stragglers:
    """What one cycle re-drove, for the cycle's `PatrolCompleted`."""

    saw: Counter[str] = field(default_factory=Counter)
    did: list[str] = field(default_factory=list)


class StragglerWatch:
    """Re-sends what idle Runs and stuck promotions wait for, at most once per `resend_after_s`
    per Run (forgotten on restart: a duplicate message is harmless)."""

    def __init__(
        self,
        ledger: LedgerClient,
        messages: RunMessages,
        *,
        resend_after_s: float,
        reply_retries: int = 5,
    ) -> None:
        self._ledger = ledger
        self._messages = messages
        self._wait = timedelta(seconds=resend_after_s)
        self._reply_retries = reply_retries
        self._sent: dict[str, datetime] = {}

    def cycle(self, now: datetime) -> Stragglers:
        """One look at every unsettled Run and every promotion under way."""
        found = Stragglers()
        idle_since = now - self._wait
        seen: set[str] = set()
        for run in self._ledger.iter_runs(statuses=[*UNPLANNED, *UNDER_WAY]):
            seen.add(run.run_id)
            if run.updated_at > idle_since or self._sent.get(run.run_id, idle_since) > idle_since:
                continue
            with bound_context(run_id=run.run_id):
                done = self._redrive(run, found)
            if done:
                self._sent[run.run_id] = now
                found.did.append(done)
        self._sent = {run_id: at for run_id, at in self._sent.items() if run_id in seen}
        for order in self._ledger.iter_orders(statuses=[OrderStatus.INTEGRATING]):
            if order.updated_at > idle_since:
                continue
            found.saw["integrations_stuck"] += 1
            with bound_context(run_id=order.run_id, order_id=order.order_id, attempt=order.attempt):
                stuck_since = order.updated_at.isoformat()  # one ask per stuck state
                if request_integration(self._ledger, order, stuck_since):
                    found.did.append(f"integration_ready {order.order_id}#{order.attempt}")
        self._unreplied(now, found)
        return found

    def _unreplied(self, now: datetime, found: Stragglers) -> None:
        """Settled Runs whose reply failed: `gateway.deliver_reply` again, caused by the last
        `ReplyFailed` (so the next failure is recorded as a new event, not swallowed)."""
        for run in self._ledger.iter_runs(reply_status="failed"):
            found.saw["replies_failed"] += 1
            if run.reply_failures > self._reply_retries:
                found.saw["replies_given_up"] += 1
                continue
            if now - run.updated_at < self._wait * 2 ** (run.reply_failures - 1):
                continue
            events = self._ledger.read_stream(run.run_id).events
            failure = next(
                (e for e in reversed(events) if e.type == ev.ReplyFailed.event_type), None
            )
            if failure is None:
                continue
            with bound_context(run_id=run.run_id):
                self._messages.deliver_reply(DeliverReply(event_id=failure.id, run_id=run.run_id))
                log.info("duty.run.reply_resent", failures=run.reply_failures)
            found.did.append(f"deliver_reply {run.run_id}")

    def _redrive(self, run: RunView, found: Stragglers) -> str | None:
        if run.status in UNPLANNED:
            found.saw["runs_unplanned"] += 1
            return f"plan_run {run.run_id}" if _replan(self._ledger, self._messages, run) else None
        if any(order.status in IN_FLIGHT for order in run.orders):
            return None
        found.saw["runs_idle"] += 1
        if _resettle(self._ledger, self._messages, run):
            return f"order_settled {run.run_id}"
        return None


def _replan(ledger: LedgerClient, messages: RunMessages, run: RunView) -> bool:
    """`co.plan_run` again, caused by the Run's `RunReceived`."""
    events = ledger.read_stream(run.run_id).events
    received = next((e for e in events if e.type == ev.RunReceived.event_type), None)
    if received is None:
        return False
    messages.plan_run(PlanRun(event_id=received.id, run_id=run.run_id))
    log.info("duty.run.replan_requested", status=run.status.value)
    return True


def _resettle(ledger: LedgerClient, messages: RunMessages, run: RunView) -> bool:
    """`co.order_settled` again for the Run's latest settled Order: co re-reads the whole Run."""
    settled = [order for order in run.orders if order.status in ORDER_SETTLED]
    if not settled:
        return False
    latest = max(settled, key=lambda order: order.order_id)
    last_event = ledger.read_stream(latest.order_id).events[-1]
    messages.order_settled(
        OrderSettled(
            event_id=last_event.id,
            order_id=latest.order_id,
            run_id=run.run_id,
            status=latest.status,
        )
    )
    log.info("duty.run.settlement_requested", order_id=latest.order_id)
    return True
