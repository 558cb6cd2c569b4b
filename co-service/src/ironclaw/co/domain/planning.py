"""`co.plan_run`: turn a received Run into Orders in the ledger, once, whatever the deliveries."""

from __future__ import annotations

from typing import Literal

from ironclaw.co.domain.drafts import PlanError, with_order_ids
from ironclaw.co.domain.planners import RunPlanner
from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AppendRequest, RunView, StreamPage
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerConflict, LedgerNotFound
from ironclaw.contracts.events import EventMetadata, NewEvent
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.contracts.models import RunStatus
from ironclaw.contracts.tasks import PlanRun

PlanOutcome = Literal["planned", "failed", "cancelled", "skipped", "taken", "missing"]
ACTOR = "co"
log = get_logger()


def co_events(cause: str, run_id: str, *payloads: ev.EventPayload) -> list[NewEvent]:
    """The payloads as events the co service appends because of event `cause`."""
    metadata = EventMetadata(correlation_id=run_id, causation_id=cause, actor=ACTOR)
    return [NewEvent.of(payload, metadata=metadata) for payload in payloads]


def plan_run(task: PlanRun, *, ledger: LedgerClient, planner: RunPlanner) -> PlanOutcome:
    """Plan the Run of `task` if nobody has: `RunPlanningStarted`, then one batch with
    `RunPlanned`, each `OrderPlanned` and `OrderIssued` for the Orders free to start.

    Acts only on a Run that is `received`, or `planning` with no plan (its planner crashed).
    A Run that cannot be planned gets `RunFailed` with the reason.
    """
    try:
        run = ledger.get_run(task.run_id)
    except LedgerNotFound:
        log.warning("co.run.missing")
        return "missing"
    stream = ledger.read_stream(task.run_id)
    if not _needs_a_plan(run, stream):
        log.info("co.run.skipped", status=run.status.value)
        return "skipped"
    received = _received(stream)
    if _has(stream, ev.RunCancelRequested):
        cancelled = ev.RunCancelled(run_id=run.run_id, reason="cancelled before it was planned")
        return _append_run_end(ledger, task, run.version, cancelled, "cancelled")
    started = ev.RunPlanningStarted(run_id=run.run_id, planner=planner.planner_for(received))
    try:
        version = ledger.append(
            run.run_id, co_events(task.event_id, run.run_id, started), expected_version=run.version
        ).version
    except LedgerConflict:
        log.info("co.run.planning_taken")
        return "taken"
    log.info("co.run.planning_started", planner=started.planner)
    return _plan_and_record(task, received, version, ledger=ledger, planner=planner)


def _plan_and_record(
    task: PlanRun, run: ev.RunReceived, version: int, *, ledger: LedgerClient, planner: RunPlanner
) -> PlanOutcome:
    try:
        plan = planner.plan(run)
        orders = with_order_ids(plan.drafts, default_profile=run.profile)
    except PlanError as error:
        failed = ev.RunFailed(run_id=run.run_id, reason=f"planning failed: {error}")
        log.warning("co.run.unplannable", reason=str(error))
        return _append_run_end(ledger, task, version, failed, "failed")
    planned = ev.RunPlanned(
        run_id=run.run_id, planner=plan.planner, orders=orders, rationale=plan.rationale
    )
    appends = [
        LedgerClient.request(
            run.run_id, co_events(task.event_id, run.run_id, planned), expected_version=version
        ),
        *(_order_append(task, run, order) for order in orders),
    ]
    try:
        ledger.append_batch(appends)
    except LedgerConflict:
        log.info("co.run.plan_conflict")
        return "taken"
    issued = sum(1 for order in orders if not order.depends_on)
    log.info("co.run.planned", planner=plan.planner, orders=len(orders), issued=issued)
    return "planned"


def _order_append(task: PlanRun, run: ev.RunReceived, order: ev.PlannedOrder) -> AppendRequest:
    """A new Order's stream: `OrderPlanned`, and `OrderIssued` attempt 1 when nothing blocks it."""
    payloads: list[ev.EventPayload] = [
        ev.OrderPlanned(order_id=order.order_id, run_id=run.run_id, theater=run.theater, spec=order)
    ]
    if not order.depends_on:
        payloads.append(ev.OrderIssued(order_id=order.order_id, run_id=run.run_id, attempt=1))
    return LedgerClient.request(
        order.order_id, co_events(task.event_id, run.run_id, *payloads), expected_version=0
    )


def _append_run_end(
    ledger: LedgerClient,
    task: PlanRun,
    version: int,
    payload: ev.RunFailed | ev.RunCancelled,
    outcome: PlanOutcome,
) -> PlanOutcome:
    try:
        ledger.append(
            task.run_id, co_events(task.event_id, task.run_id, payload), expected_version=version
        )
    except LedgerConflict:
        log.info("co.run.end_conflict", event_type=payload.event_type)
        return "taken"
    log.info(f"co.run.{outcome}", event_type=payload.event_type)
    return outcome


def _needs_a_plan(run: RunView, stream: StreamPage) -> bool:
    if run.status == RunStatus.RECEIVED:
        return True
    return run.status == RunStatus.PLANNING and not _has(stream, ev.RunPlanned)


def _has(stream: StreamPage, event_type: type[ev.EventPayload]) -> bool:
    return any(event.type == event_type.event_type for event in stream.events)


def _received(stream: StreamPage) -> ev.RunReceived:
    for event in stream.events:
        if event.type == ev.RunReceived.event_type:
            return ev.RunReceived.model_validate(event.data)
    raise PlanError(f"stream {stream.stream_id} has no RunReceived")
