"""The subscription table: which Celery tasks an appended event triggers, with their payloads.

The ledger writes one outbox row per (event, task) in the append transaction; its relay publishes
them by task name. Services never import each other: this table is the only wiring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from ironclaw.contracts import events as ev
from ironclaw.contracts import tasks
from ironclaw.contracts.models import OrderStatus


@dataclass(frozen=True)
class Subscription:
    task: str
    build: Callable[[str, ev.EventPayload], tasks.TaskPayload | None]


@dataclass(frozen=True)
class TaskMessage:
    task: str
    queue: str
    payload: tasks.TaskPayload


def _plan_run(event_id: str, p: ev.EventPayload) -> tasks.TaskPayload:
    assert isinstance(p, ev.RunReceived)
    return tasks.PlanRun(event_id=event_id, run_id=p.run_id)


def _execute_order(event_id: str, p: ev.EventPayload) -> tasks.TaskPayload:
    assert isinstance(p, ev.OrderIssued)
    return tasks.ExecuteOrder(
        event_id=event_id, order_id=p.order_id, run_id=p.run_id, attempt=p.attempt
    )


def _integrate_order(event_id: str, p: ev.EventPayload) -> tasks.TaskPayload:
    assert isinstance(p, ev.OrderCompleted | ev.IntegrationReady)
    return tasks.IntegrateOrder(
        event_id=event_id, order_id=p.order_id, run_id=p.run_id, attempt=p.attempt
    )


_SETTLING_STATUS: Final[dict[str, OrderStatus]] = {
    "Integrated": OrderStatus.INTEGRATED,
    "IntegrationFailed": OrderStatus.INTEGRATION_FAILED,
    "OrderFailed": OrderStatus.FAILED,
    "OrderBlocked": OrderStatus.BLOCKED,
    "OrderCancelled": OrderStatus.CANCELLED,
}


def _order_settled(event_id: str, p: ev.EventPayload) -> tasks.TaskPayload:
    assert isinstance(
        p,
        ev.Integrated | ev.IntegrationFailed | ev.OrderFailed | ev.OrderBlocked | ev.OrderCancelled,
    )
    return tasks.OrderSettled(
        event_id=event_id,
        order_id=p.order_id,
        run_id=p.run_id,
        status=_SETTLING_STATUS[p.event_type],
    )


def _record_outcome(event_id: str, p: ev.EventPayload) -> tasks.TaskPayload:
    assert isinstance(p, ev.OrderCompleted | ev.OrderFailed | ev.Integrated | ev.IntegrationFailed)
    return tasks.RecordOutcome(
        event_id=event_id,
        order_id=p.order_id,
        run_id=p.run_id,
        attempt=p.attempt,
        event_type=p.event_type,
    )


def _deliver_reply(event_id: str, p: ev.EventPayload) -> tasks.TaskPayload:
    assert isinstance(p, ev.RunCompleted | ev.RunFailed | ev.RunCancelled)
    return tasks.DeliverReply(event_id=event_id, run_id=p.run_id)


SUBSCRIPTIONS: Final[Mapping[str, tuple[Subscription, ...]]] = {
    "RunReceived": (Subscription(tasks.PLAN_RUN, _plan_run),),
    "OrderIssued": (Subscription(tasks.EXECUTE_ORDER, _execute_order),),
    "OrderCompleted": (
        Subscription(tasks.INTEGRATE_ORDER, _integrate_order),
        Subscription(tasks.RECORD_OUTCOME, _record_outcome),
    ),
    "IntegrationReady": (Subscription(tasks.INTEGRATE_ORDER, _integrate_order),),
    "Integrated": (
        Subscription(tasks.ORDER_SETTLED, _order_settled),
        Subscription(tasks.RECORD_OUTCOME, _record_outcome),
    ),
    "IntegrationFailed": (
        Subscription(tasks.ORDER_SETTLED, _order_settled),
        Subscription(tasks.RECORD_OUTCOME, _record_outcome),
    ),
    "OrderFailed": (
        Subscription(tasks.ORDER_SETTLED, _order_settled),
        Subscription(tasks.RECORD_OUTCOME, _record_outcome),
    ),
    "OrderBlocked": (Subscription(tasks.ORDER_SETTLED, _order_settled),),
    "OrderCancelled": (Subscription(tasks.ORDER_SETTLED, _order_settled),),
    "RunCompleted": (Subscription(tasks.DELIVER_REPLY, _deliver_reply),),
    "RunFailed": (Subscription(tasks.DELIVER_REPLY, _deliver_reply),),
    "RunCancelled": (Subscription(tasks.DELIVER_REPLY, _deliver_reply),),
}


def messages_for(event_id: str, event_type: str, payload: ev.EventPayload) -> list[TaskMessage]:
    """The task messages an event triggers, in table order."""
    found = []
    for subscription in SUBSCRIPTIONS.get(event_type, ()):
        payload_for_task = subscription.build(event_id, payload)
        if payload_for_task is not None:
            found.append(
                TaskMessage(subscription.task, tasks.queue_for(subscription.task), payload_for_task)
            )
    return found
