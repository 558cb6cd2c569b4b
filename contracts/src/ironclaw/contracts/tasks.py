"""Celery task names, queues and payloads. Tasks are commands, named in the imperative."""

from __future__ import annotations

from typing import Final

from pydantic import Field

from ironclaw.contracts.models import Frozen, OrderStatus

PLAN_RUN: Final = "co.plan_run"
ORDER_SETTLED: Final = "co.order_settled"
EXECUTE_ORDER: Final = "worker.execute_order"
INTEGRATE_ORDER: Final = "integration.integrate_order"
DELIVER_REPLY: Final = "gateway.deliver_reply"
RECORD_OUTCOME: Final = "learning.record_outcome"

TASK_NAMES: Final = frozenset(
    {PLAN_RUN, ORDER_SETTLED, EXECUTE_ORDER, INTEGRATE_ORDER, DELIVER_REPLY, RECORD_OUTCOME}
)


def queue_for(task_name: str) -> str:
    """Each service consumes its own queue, named by the task's prefix (`co`, `worker`, ...)."""
    if task_name not in TASK_NAMES:
        raise ValueError(f"unknown task {task_name!r}")
    return task_name.split(".", 1)[0]


class TaskPayload(Frozen):
    """Base of every task payload: the event that caused the task, for idempotency and tracing."""

    event_id: str = Field(pattern=r"^evt_[0-9a-z]{26}$")


class PlanRun(TaskPayload):
    run_id: str


class ExecuteOrder(TaskPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)


class IntegrateOrder(TaskPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)


class OrderSettled(TaskPayload):
    order_id: str
    run_id: str
    status: OrderStatus


class DeliverReply(TaskPayload):
    run_id: str


class RecordOutcome(TaskPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)
    event_type: str


PAYLOAD_FOR_TASK: Final[dict[str, type[TaskPayload]]] = {
    PLAN_RUN: PlanRun,
    ORDER_SETTLED: OrderSettled,
    EXECUTE_ORDER: ExecuteOrder,
    INTEGRATE_ORDER: IntegrateOrder,
    DELIVER_REPLY: DeliverReply,
    RECORD_OUTCOME: RecordOutcome,
}
