"""Puts fleet messages on the broker by task name, as the ledger's relay does."""

from __future__ import annotations

from celery import Celery

from ironclaw.contracts import tasks
from ironclaw.contracts.kit.celery import publisher_config
from ironclaw.contracts.tasks import ExecuteOrder


class CeleryEnqueuer:
    """Sends `worker.execute_order` on the `worker` queue of the broker at `broker_url`."""

    def __init__(self, broker_url: str) -> None:
        self._app = Celery("ironclaw-duty", broker=broker_url, set_as_current=False)
        self._app.conf.update(publisher_config(broker_url))

    def execute_order(self, task: ExecuteOrder) -> None:
        self._app.send_task(
            tasks.EXECUTE_ORDER,
            kwargs={"payload": task.model_dump(mode="json")},
            queue=tasks.queue_for(tasks.EXECUTE_ORDER),
        )

    def close(self) -> None:
        self._app.close()
