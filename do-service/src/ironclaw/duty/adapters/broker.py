"""Puts fleet messages on the broker by task name, as the ledger's relay does."""

from __future__ import annotations

from celery import Celery

from ironclaw.contracts import tasks
from ironclaw.contracts.kit.celery import publisher_config
from ironclaw.contracts.tasks import (
    DeliverReply,
    ExecuteOrder,
    OrderSettled,
    PlanRun,
    TaskPayload,
)


class CeleryEnqueuer:
    """Sends fleet tasks by name, each on its queue, to the broker at `broker_url`."""

    def __init__(self, broker_url: str) -> None:
        self._app = Celery("ironclaw-duty", broker=broker_url, set_as_current=False)
        self._app.conf.update(publisher_config(broker_url))

    def execute_order(self, task: ExecuteOrder) -> None:
        self._send(tasks.EXECUTE_ORDER, task)

    def plan_run(self, task: PlanRun) -> None:
        self._send(tasks.PLAN_RUN, task)

    def order_settled(self, task: OrderSettled) -> None:
        self._send(tasks.ORDER_SETTLED, task)

    def deliver_reply(self, task: DeliverReply) -> None:
        self._send(tasks.DELIVER_REPLY, task)

    def _send(self, name: str, task: TaskPayload) -> None:
        self._app.send_task(
            name, kwargs={"payload": task.model_dump(mode="json")}, queue=tasks.queue_for(name)
        )

    def close(self) -> None:
        self._app.close()
