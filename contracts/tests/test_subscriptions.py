from __future__ import annotations

import pytest

from ironclaw.contracts import events as ev
from ironclaw.contracts import tasks
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import OrderStatus
from ironclaw.contracts.subscriptions import SUBSCRIPTIONS, TaskMessage, messages_for

EVENT_ID = new_id("evt")


def test_every_subscribed_event_type_is_registered() -> None:
    assert set(SUBSCRIPTIONS) <= set(ev.event_types())


def test_every_subscribed_task_is_known_with_a_payload_model() -> None:
    for subscriptions in SUBSCRIPTIONS.values():
        assert subscriptions, "an entry without subscriptions is dead wiring"
        for subscription in subscriptions:
            assert subscription.task in tasks.TASK_NAMES
            assert subscription.task in tasks.PAYLOAD_FOR_TASK


def test_every_task_is_triggered_by_some_event() -> None:
    triggered = {s.task for subscriptions in SUBSCRIPTIONS.values() for s in subscriptions}
    assert triggered == set(tasks.TASK_NAMES)


def test_every_subscription_builds_a_valid_message(
    registered_type: str, sample_payloads: dict[str, ev.EventPayload]
) -> None:
    payload = sample_payloads[registered_type]

    messages = messages_for(EVENT_ID, registered_type, payload)

    assert [m.task for m in messages] == [s.task for s in SUBSCRIPTIONS.get(registered_type, ())]
    for message in messages:
        assert message.queue == tasks.queue_for(message.task)
        assert type(message.payload) is tasks.PAYLOAD_FOR_TASK[message.task]
        assert message.payload.event_id == EVENT_ID
        # What the relay publishes must parse back on the consumer's side.
        wire = message.payload.model_dump(mode="json")
        assert tasks.PAYLOAD_FOR_TASK[message.task].model_validate(wire) == message.payload


def test_order_issued_executes_the_order_on_the_worker_queue() -> None:
    order_id, run_id = new_id("ord"), new_id("run")
    issued = ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=3)

    assert messages_for(EVENT_ID, "OrderIssued", issued) == [
        TaskMessage(
            task="worker.execute_order",
            queue="worker",
            payload=tasks.ExecuteOrder(
                event_id=EVENT_ID, order_id=order_id, run_id=run_id, attempt=3
            ),
        )
    ]


def test_run_received_plans_the_run() -> None:
    run_id = new_id("run")
    received = ev.RunReceived(run_id=run_id, theater="default", message="hi")

    [message] = messages_for(EVENT_ID, "RunReceived", received)

    assert (message.task, message.queue) == ("co.plan_run", "co")
    assert message.payload == tasks.PlanRun(event_id=EVENT_ID, run_id=run_id)


def test_integrated_settles_the_order_and_records_the_outcome() -> None:
    order_id, run_id = new_id("ord"), new_id("run")
    integrated = ev.Integrated(
        order_id=order_id, run_id=run_id, attempt=2, theater="default", merged_commit="a" * 40
    )

    settled, outcome = messages_for(EVENT_ID, "Integrated", integrated)

    assert (settled.task, settled.queue) == ("co.order_settled", "co")
    assert settled.payload == tasks.OrderSettled(
        event_id=EVENT_ID, order_id=order_id, run_id=run_id, status=OrderStatus.INTEGRATED
    )
    assert (outcome.task, outcome.queue) == ("learning.record_outcome", "learning")
    assert outcome.payload == tasks.RecordOutcome(
        event_id=EVENT_ID, order_id=order_id, run_id=run_id, attempt=2, event_type="Integrated"
    )


def test_order_completed_is_integrated_and_recorded(
    sample_payloads: dict[str, ev.EventPayload],
) -> None:
    completed = sample_payloads["OrderCompleted"]
    assert isinstance(completed, ev.OrderCompleted)

    integrate, outcome = messages_for(EVENT_ID, "OrderCompleted", completed)

    assert (integrate.task, integrate.queue) == ("integration.integrate_order", "integration")
    assert integrate.payload == tasks.IntegrateOrder(
        event_id=EVENT_ID,
        order_id=completed.order_id,
        run_id=completed.run_id,
        attempt=completed.attempt,
    )
    assert isinstance(outcome.payload, tasks.RecordOutcome)
    assert outcome.payload.event_type == "OrderCompleted"


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("Integrated", OrderStatus.INTEGRATED),
        ("IntegrationFailed", OrderStatus.INTEGRATION_FAILED),
        ("OrderFailed", OrderStatus.FAILED),
        ("OrderBlocked", OrderStatus.BLOCKED),
        ("OrderCancelled", OrderStatus.CANCELLED),
    ],
)
def test_settling_events_carry_their_status(
    event_type: str, status: OrderStatus, sample_payloads: dict[str, ev.EventPayload]
) -> None:
    messages = messages_for(EVENT_ID, event_type, sample_payloads[event_type])

    settled = [m for m in messages if m.task == tasks.ORDER_SETTLED]
    assert len(settled) == 1
    assert isinstance(settled[0].payload, tasks.OrderSettled)
    assert settled[0].payload.status is status


@pytest.mark.parametrize("event_type", ["RunCompleted", "RunFailed", "RunCancelled"])
def test_run_endings_deliver_the_reply(
    event_type: str, sample_payloads: dict[str, ev.EventPayload]
) -> None:
    ending = sample_payloads[event_type]
    assert isinstance(ending, ev.RunCompleted | ev.RunFailed | ev.RunCancelled)

    [message] = messages_for(EVENT_ID, event_type, ending)

    assert (message.task, message.queue) == ("gateway.deliver_reply", "gateway")
    assert message.payload == tasks.DeliverReply(event_id=EVENT_ID, run_id=ending.run_id)


@pytest.mark.parametrize("event_type", ["SignalEmitted", "OrderClaimed", "TheaterRegistered"])
def test_events_without_subscriptions_trigger_nothing(
    event_type: str, sample_payloads: dict[str, ev.EventPayload]
) -> None:
    assert event_type not in SUBSCRIPTIONS
    assert messages_for(EVENT_ID, event_type, sample_payloads[event_type]) == []
