from __future__ import annotations

import pytest
from pydantic import ValidationError

from ironclaw.contracts import tasks
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import OrderStatus


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        (tasks.PLAN_RUN, "co"),
        (tasks.ORDER_SETTLED, "co"),
        (tasks.EXECUTE_ORDER, "worker"),
        (tasks.INTEGRATE_ORDER, "integration"),
        (tasks.DELIVER_REPLY, "gateway"),
        (tasks.RECORD_OUTCOME, "learning"),
    ],
)
def test_queue_for_known_tasks(task: str, queue: str) -> None:
    assert tasks.queue_for(task) == queue


@pytest.mark.parametrize("task", ["", "co", "worker.execute", "bogus.task", "CO.PLAN_RUN"])
def test_queue_for_refuses_unknown_tasks(task: str) -> None:
    with pytest.raises(ValueError, match="unknown task"):
        tasks.queue_for(task)


def test_every_task_has_a_payload_model_and_vice_versa() -> None:
    assert set(tasks.PAYLOAD_FOR_TASK) == set(tasks.TASK_NAMES)
    for model in tasks.PAYLOAD_FOR_TASK.values():
        assert issubclass(model, tasks.TaskPayload)


def test_task_names_are_imperative_and_dotted() -> None:
    for task in tasks.TASK_NAMES:
        service, _, verb = task.partition(".")
        assert service, task
        assert verb, task
        assert task == task.lower()


def test_payload_needs_an_event_id() -> None:
    with pytest.raises(ValidationError, match="event_id"):
        tasks.PlanRun(event_id=new_id("run"), run_id=new_id("run"))
    with pytest.raises(ValidationError, match="event_id"):
        tasks.PlanRun.model_validate({"run_id": new_id("run")})


def test_payloads_are_frozen_and_strict() -> None:
    payload = tasks.ExecuteOrder(
        event_id=new_id("evt"), order_id=new_id("ord"), run_id=new_id("run"), attempt=1
    )
    with pytest.raises(ValidationError, match="frozen"):
        payload.attempt = 2  # type: ignore[misc]
    with pytest.raises(ValidationError, match="priority"):
        tasks.ExecuteOrder.model_validate({**payload.model_dump(), "priority": 1})
    with pytest.raises(ValidationError, match="attempt"):
        tasks.ExecuteOrder.model_validate({**payload.model_dump(), "attempt": 0})


def test_order_settled_status_is_an_order_status() -> None:
    fields = {"event_id": new_id("evt"), "order_id": new_id("ord"), "run_id": new_id("run")}
    settled = tasks.OrderSettled.model_validate({**fields, "status": "integrated"})
    assert settled.status is OrderStatus.INTEGRATED
    with pytest.raises(ValidationError, match="status"):
        tasks.OrderSettled.model_validate({**fields, "status": "done"})
