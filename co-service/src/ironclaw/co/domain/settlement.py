"""`co.order_settled`: after an Order settles, move its Run on — dispatch what is now free,
cancel what can no longer run, ask for the next promotion, and settle the Run at the end.

Every step is an append at the version the step was decided on, so a duplicate or concurrent
delivery either finds the work done or loses the race harmlessly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from ironclaw.co.domain.planning import co_events
from ironclaw.co.domain.synthesis import current_attempt, failure_reason, synthesise_response
from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView, RunView, StreamPage
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerConflict
from ironclaw.contracts.events import NewEvent
from ironclaw.contracts.ids import derived_event_id
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.contracts.models import ORDER_SETTLED, RUN_SETTLED, OrderStatus
from ironclaw.contracts.tasks import OrderSettled

# Blocked Orders are cancelled (see `_dispatch_or_cancel`); until then they count as ended.
ENDED = ORDER_SETTLED | {OrderStatus.BLOCKED}
DEAD_END = frozenset(
    {
        OrderStatus.FAILED,
        OrderStatus.INTEGRATION_FAILED,
        OrderStatus.CANCELLED,
        OrderStatus.BLOCKED,
    }
)
# Everything unsettled but `integrating`: a promotion under way lands first (the ledger refuses
# to cancel it), and its settling then ends the Run.
CANCELLABLE_ON_REQUEST = frozenset(
    {
        OrderStatus.PLANNED,
        OrderStatus.ISSUED,
        OrderStatus.CLAIMED,
        OrderStatus.RUNNING,
        OrderStatus.COMPLETED,
        OrderStatus.BLOCKED,
    }
)
PayloadT = TypeVar("PayloadT", bound=ev.EventPayload)
log = get_logger()


@dataclass
class Settlement:
    """What one `co.order_settled` did: order ids issued, cancelled, readied; the Run's end."""

    issued: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    integration_ready: str | None = None
    run_event: str | None = None


@dataclass
class RunState:
    """A planned Run as read from the ledger: the plan in its order, and each Order's view."""

    run: RunView
    plan: list[ev.PlannedOrder]
    orders: dict[str, OrderView]
    cancel_request: ev.RunCancelRequested | None

    def status(self, order_id: str) -> OrderStatus:
        return self.orders[order_id].status

    def key(self, order_id: str) -> str:
        return self.orders[order_id].key


def settle_order(task: OrderSettled, *, ledger: LedgerClient) -> Settlement:
    """Everything the Run of `task` needs now that one of its Orders settled."""
    done = Settlement()
    state = read_run_state(ledger, task.run_id)
    if state is None:
        return done
    if state.cancel_request is not None:
        _cancel_remaining(ledger, task, state, done)
    else:
        _dispatch_or_cancel(ledger, task, state, done)
        _request_next_integration(ledger, task, state, done)
    if all(status in ENDED for status in _statuses(state)):
        done.run_event = finish_run(ledger, task)
    return done


def read_run_state(ledger: LedgerClient, run_id: str) -> RunState | None:
    """The Run's plan and Orders, or None (logged) when there is nothing to settle."""
    run = ledger.get_run(run_id)
    if run.status in RUN_SETTLED:
        log.info("co.run.already_settled", status=run.status.value)
        return None
    stream = ledger.read_stream(run_id)
    planned = _first(stream, ev.RunPlanned)
    if planned is None:
        log.warning("co.run.not_planned", status=run.status.value)
        return None
    views = ledger.iter_orders(run_id=run_id)
    orders = {view.order_id: view for view in views}
    missing = [order.order_id for order in planned.orders if order.order_id not in orders]
    if missing:
        log.error("co.run.orders_missing", order_ids=missing)
        return None
    return RunState(run, planned.orders, orders, _first(stream, ev.RunCancelRequested))


def _dispatch_or_cancel(
    ledger: LedgerClient, task: OrderSettled, state: RunState, done: Settlement
) -> None:
    """Issue each planned Order whose dependencies all integrated; cancel each that depends on
    one that ended otherwise. Plan order is dependency-first, so cancellations cascade here.

    A blocked Order is cancelled too: nothing re-plans blockers yet, and an Order must end
    integrated, failed, integration_failed or cancelled for promotion and the Run to go on.
    """
    for order in state.plan:
        view = state.orders[order.order_id]
        if view.status == OrderStatus.BLOCKED:
            attempt = current_attempt(view)
            why = attempt.reason if attempt and attempt.reason else "no reason given"
            _cancel(ledger, task, state, view, f"blocked: {why}", done)
        if view.status != OrderStatus.PLANNED:
            continue
        dead = [d for d in order.depends_on if state.status(d) in DEAD_END]
        if dead:
            reason = f"dependency {state.key(dead[0])} {state.status(dead[0]).value}"
            _cancel(ledger, task, state, view, reason, done)
        elif all(state.status(d) == OrderStatus.INTEGRATED for d in order.depends_on):
            issue = ev.OrderIssued(order_id=view.order_id, run_id=task.run_id, attempt=1)
            if _append_at(ledger, task, view, issue):
                _mark(state, view.order_id, OrderStatus.ISSUED)
                done.issued.append(view.order_id)


def _cancel(
    ledger: LedgerClient,
    task: OrderSettled,
    state: RunState,
    view: OrderView,
    reason: str,
    done: Settlement,
) -> None:
    cancel = ev.OrderCancelled(order_id=view.order_id, run_id=task.run_id, reason=reason)
    if _append_at(ledger, task, view, cancel):
        _mark(state, view.order_id, OrderStatus.CANCELLED)
        done.cancelled.append(view.order_id)


def _request_next_integration(
    ledger: LedgerClient, task: OrderSettled, state: RunState, done: Settlement
) -> None:
    """`IntegrationReady` for the first unsettled Order in plan order, if it is `completed`.

    Promotion follows the plan, so only that Order may be promoted now. Its id is derived from
    the Order and attempt: a second append of it, from any delivery, stores nothing.
    """
    waiting = next((o for o in state.plan if state.status(o.order_id) not in ENDED), None)
    if waiting is None or state.status(waiting.order_id) != OrderStatus.COMPLETED:
        return
    view = state.orders[waiting.order_id]
    ready = ev.IntegrationReady(order_id=view.order_id, run_id=task.run_id, attempt=view.attempt)
    event_id = derived_event_id(ready.event_type, view.order_id, view.attempt)
    if _append_at(ledger, task, view, ready, event_id=event_id):
        done.integration_ready = view.order_id


def _cancel_remaining(
    ledger: LedgerClient, task: OrderSettled, state: RunState, done: Settlement
) -> None:
    """A cancel was requested: nothing new starts or gets promoted; every order not yet
    settled or integrating is cancelled (the gateway's cancel did so too; this covers what it
    could not, like an order reissued meanwhile), and running units stop at their next signal."""
    for order in state.plan:
        view = state.orders[order.order_id]
        if view.status in CANCELLABLE_ON_REQUEST:
            _cancel(ledger, task, state, view, "run cancel requested", done)


def finish_run(ledger: LedgerClient, task: OrderSettled) -> str | None:
    """Append the Run's end, once: `RunCompleted` if every Order integrated, else `RunFailed`
    (or `RunCancelled` after a cancel request), with the synthesised response.

    A version conflict re-reads the Run and tries once more; a Run already settled is left be.
    """
    for _ in range(2):
        state = read_run_state(ledger, task.run_id)
        if state is None or not all(status in ENDED for status in _statuses(state)):
            return None
        ending = _run_ending(state)
        try:
            ledger.append(
                task.run_id,
                co_events(task.event_id, task.run_id, ending),
                expected_version=state.run.version,
            )
        except LedgerConflict:
            log.info("co.run.finish_conflict")
            continue
        log.info("co.run.settled", event_type=ending.event_type)
        return ending.event_type
    return None


def _run_ending(state: RunState) -> ev.RunCompleted | ev.RunFailed | ev.RunCancelled:
    orders = [state.orders[order.order_id] for order in state.plan]
    response = synthesise_response(state.run, orders)
    run_id = state.run.run_id
    if state.cancel_request is not None:
        by = state.cancel_request.requested_by
        return ev.RunCancelled(run_id=run_id, reason=f"cancelled by {by}" if by else "cancelled")
    if all(order.status == OrderStatus.INTEGRATED for order in orders):
        return ev.RunCompleted(run_id=run_id, response=response)
    return ev.RunFailed(run_id=run_id, reason=failure_reason(orders), response=response)


def _append_at(
    ledger: LedgerClient,
    task: OrderSettled,
    order: OrderView,
    payload: ev.EventPayload,
    *,
    event_id: str | None = None,
) -> bool:
    """Append to the Order's stream at the version it was read at; False if it moved since."""
    (event,) = co_events(task.event_id, task.run_id, payload)
    if event_id is not None:
        event = NewEvent(id=event_id, type=event.type, data=event.data, metadata=event.metadata)
    try:
        result = ledger.append(order.order_id, [event], expected_version=order.version)
    except LedgerConflict:
        log.info("co.order.moved_on", order_id=order.order_id, event_type=payload.event_type)
        return False
    log.info(
        "co.order.appended",
        order_id=order.order_id,
        event_type=payload.event_type,
        duplicate=result.duplicate,
    )
    return not result.duplicate


def _mark(state: RunState, order_id: str, status: OrderStatus) -> None:
    """Record an append's effect on the view, so later steps of this pass see it."""
    state.orders[order_id] = state.orders[order_id].model_copy(update={"status": status})


def _statuses(state: RunState) -> list[OrderStatus]:
    return [state.status(order.order_id) for order in state.plan]


def _first(stream: StreamPage, event_type: type[PayloadT]) -> PayloadT | None:
    for event in stream.events:
        if event.type == event_type.event_type:
            return event_type.model_validate(event.data)
    return None
