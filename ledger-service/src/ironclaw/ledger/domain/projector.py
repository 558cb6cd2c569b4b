"""Projections: how each event changes the `runs`, `orders`, `attempts`, `theaters`,
`profiles` and `usage` rows.

The same functions serve live appends and rebuilds, so a rebuilt projection equals the live one.
Every value comes from the events themselves (timestamps included), never from the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from ironclaw.contracts import events as ev
from ironclaw.contracts.models import (
    ORDER_SETTLED,
    RUN_SETTLED,
    AttemptStatus,
    OrderStatus,
    RunStatus,
)
from ironclaw.ledger.domain import profiles
from ironclaw.ledger.domain.records import EventRecord, EventRefused, StaleAttempt
from ironclaw.ledger.domain.store import ProjectionStore, Row, entity_of_stream
from ironclaw.ledger.domain.usage import add_usage

P = TypeVar("P", bound=ev.EventPayload)
Handler = Callable[[ProjectionStore, EventRecord, Any], None]
HANDLERS: dict[str, Handler] = {}

ATTEMPT_FINAL = frozenset(
    {
        AttemptStatus.INTEGRATED,
        AttemptStatus.INTEGRATION_FAILED,
        AttemptStatus.FAILED,
        AttemptStatus.CANCELLED,
        AttemptStatus.SUPERSEDED,
    }
)


def projects(
    event_type: type[P],
) -> Callable[[Callable[[ProjectionStore, EventRecord, P], None]], Handler]:
    def register(handler: Callable[[ProjectionStore, EventRecord, P], None]) -> Handler:
        HANDLERS[event_type.event_type] = handler
        return handler

    return register


def project(store: ProjectionStore, record: EventRecord) -> None:
    """Apply one event to the projections; raises `EventRefused` when it does not fit."""
    handler = HANDLERS.get(record.type)
    if handler is not None:
        handler(store, record, record.payload)
    _track_version(store, record)


def _track_version(store: ProjectionStore, record: EventRecord) -> None:
    """Keep an entity's `version` at its stream's, whatever the event (writers append at it)."""
    entity = entity_of_stream(record.stream_id)
    if entity is None:
        return
    row = store.get(*entity)
    if row is not None and row["version"] != record.version:
        row["version"] = record.version
        store.put(entity[0], row)


# --- runs -------------------------------------------------------------------------------------


def _run(store: ProjectionStore, run_id: str) -> Row:
    row = store.get("runs", (run_id,))
    if row is None:
        raise EventRefused(f"run {run_id!r} does not exist")
    return row


def _set_run_status(
    store: ProjectionStore, record: EventRecord, run_id: str, status: RunStatus, **changes: Any
) -> None:
    row = _run(store, run_id)
    if row["status"] in RUN_SETTLED:
        raise EventRefused(f"run {run_id!r} is already {row['status']}; {record.type} refused")
    row.update(status=status.value, **changes)
    _touch(store, "runs", row, record)


def _touch(store: ProjectionStore, table: str, row: Row, record: EventRecord) -> None:
    row["updated_at"] = record.recorded_at
    store.put(table, row)


@projects(ev.RunReceived)
def _run_received(store: ProjectionStore, record: EventRecord, p: ev.RunReceived) -> None:
    if store.get("runs", (p.run_id,)) is not None:
        raise EventRefused(f"run {p.run_id!r} already exists")
    store.put(
        "runs",
        {
            "run_id": p.run_id,
            "status": RunStatus.RECEIVED.value,
            "theater": p.theater,
            "message": p.message,
            "source": p.source.model_dump(mode="json"),
            "conversation_id": p.conversation_id,
            "planner": None,
            "response": None,
            "reason": None,
            "cancel_requested": False,
            "reply_status": None,
            "reply_failures": 0,
            "tokens_input": 0,
            "tokens_output": 0,
            "cost_usd": 0.0,
            "created_at": record.recorded_at,
            "updated_at": record.recorded_at,
            "version": record.version,
        },
    )


@projects(ev.RunPlanningStarted)
def _run_planning(store: ProjectionStore, record: EventRecord, p: ev.RunPlanningStarted) -> None:
    _set_run_status(store, record, p.run_id, RunStatus.PLANNING, planner=p.planner)


@projects(ev.RunPlanned)
def _run_planned(store: ProjectionStore, record: EventRecord, p: ev.RunPlanned) -> None:
    _set_run_status(store, record, p.run_id, RunStatus.EXECUTING, planner=p.planner)


@projects(ev.RunIntegrating)
def _run_integrating(store: ProjectionStore, record: EventRecord, p: ev.RunIntegrating) -> None:
    _set_run_status(store, record, p.run_id, RunStatus.INTEGRATING)


@projects(ev.RunAwaitingApproval)
def _run_awaiting(store: ProjectionStore, record: EventRecord, p: ev.RunAwaitingApproval) -> None:
    _set_run_status(store, record, p.run_id, RunStatus.AWAITING_APPROVAL, reason=p.reason)


@projects(ev.RunApproved)
def _run_approved(store: ProjectionStore, record: EventRecord, p: ev.RunApproved) -> None:
    if _run(store, p.run_id)["status"] != RunStatus.AWAITING_APPROVAL:
        raise EventRefused(f"run {p.run_id!r} is not awaiting approval")
    _set_run_status(store, record, p.run_id, RunStatus.EXECUTING, reason=None)


@projects(ev.RunRejected)
def _run_rejected(store: ProjectionStore, record: EventRecord, p: ev.RunRejected) -> None:
    if _run(store, p.run_id)["status"] != RunStatus.AWAITING_APPROVAL:
        raise EventRefused(f"run {p.run_id!r} is not awaiting approval")
    reason = f"rejected by {p.approver}" + (f": {p.comment}" if p.comment else "")
    _set_run_status(store, record, p.run_id, RunStatus.CANCELLED, reason=reason)


@projects(ev.RunCompleted)
def _run_completed(store: ProjectionStore, record: EventRecord, p: ev.RunCompleted) -> None:
    _set_run_status(store, record, p.run_id, RunStatus.COMPLETED, response=p.response)


@projects(ev.RunFailed)
def _run_failed(store: ProjectionStore, record: EventRecord, p: ev.RunFailed) -> None:
    _set_run_status(store, record, p.run_id, RunStatus.FAILED, reason=p.reason, response=p.response)


@projects(ev.RunCancelRequested)
def _run_cancel_requested(
    store: ProjectionStore, record: EventRecord, p: ev.RunCancelRequested
) -> None:
    row = _run(store, p.run_id)
    row["cancel_requested"] = True
    _touch(store, "runs", row, record)


@projects(ev.RunCancelled)
def _run_cancelled(store: ProjectionStore, record: EventRecord, p: ev.RunCancelled) -> None:
    _set_run_status(store, record, p.run_id, RunStatus.CANCELLED, reason=p.reason)


@projects(ev.ReplyDelivered)
def _reply_delivered(store: ProjectionStore, record: EventRecord, p: ev.ReplyDelivered) -> None:
    row = _run(store, p.run_id)
    row["reply_status"] = "delivered"
    _touch(store, "runs", row, record)


@projects(ev.ReplyFailed)
def _reply_failed(store: ProjectionStore, record: EventRecord, p: ev.ReplyFailed) -> None:
    row = _run(store, p.run_id)
    if row["reply_status"] != "delivered":  # a late failure does not undo a delivery
        row["reply_status"] = "failed"
    row["reply_failures"] += 1
    _touch(store, "runs", row, record)


# --- orders and attempts ----------------------------------------------------------------------


def _order(store: ProjectionStore, order_id: str, run_id: str | None = None) -> Row:
    row = store.get("orders", (order_id,))
    if row is None:
        raise EventRefused(f"order {order_id!r} does not exist")
    if run_id is not None and row["run_id"] != run_id:
        raise EventRefused(f"order {order_id!r} belongs to run {row['run_id']!r}, not {run_id!r}")
    return row


def _current_attempt(store: ProjectionStore, order: Row, attempt: int, event_type: str) -> Row:
    if attempt != order["attempt"]:
        raise StaleAttempt(
            f"{event_type} for attempt {attempt} of {order['order_id']!r} refused: "
            f"the current attempt is {order['attempt']}"
        )
    row = store.get("attempts", (order["order_id"], attempt))
    if row is None:
        raise EventRefused(f"attempt {attempt} of {order['order_id']!r} was never issued")
    return row


def _require_status(order: Row, allowed: set[OrderStatus], event_type: str) -> None:
    if order["status"] not in allowed:
        raise EventRefused(
            f"{event_type} refused: order {order['order_id']!r} is {order['status']}"
        )


def _save(store: ProjectionStore, record: EventRecord, order: Row, attempt: Row | None) -> None:
    if attempt is not None:
        store.put("attempts", attempt)
    _touch(store, "orders", order, record)


def _add_usage(store: ProjectionStore, order: Row, aar: Any) -> None:
    if aar is None:
        return
    run = _run(store, order["run_id"])
    run["tokens_input"] += aar.tokens.input
    run["tokens_output"] += aar.tokens.output
    run["cost_usd"] = round(run["cost_usd"] + aar.cost_usd, 9)
    store.put("runs", run)


@projects(ev.OrderPlanned)
def _order_planned(store: ProjectionStore, record: EventRecord, p: ev.OrderPlanned) -> None:
    if store.get("orders", (p.order_id,)) is not None:
        raise EventRefused(f"order {p.order_id!r} already exists")
    run = _run(store, p.run_id)
    if run["status"] in RUN_SETTLED:
        raise EventRefused(f"run {p.run_id!r} is already {run['status']}")
    store.put(
        "orders",
        {
            "order_id": p.order_id,
            "run_id": p.run_id,
            "theater": p.theater,
            "key": p.spec.key,
            "status": OrderStatus.PLANNED.value,
            "spec": p.spec.model_dump(mode="json"),
            "attempt": 0,
            "recovery_reason": None,
            "integration": None,
            "issued_at": None,
            "lease_expires_at": None,
            "last_signal_at": None,
            "created_at": record.recorded_at,
            "updated_at": record.recorded_at,
            "version": record.version,
        },
    )


@projects(ev.OrderIssued)
def _order_issued(store: ProjectionStore, record: EventRecord, p: ev.OrderIssued) -> None:
    order = _order(store, p.order_id, p.run_id)
    if order["status"] == OrderStatus.INTEGRATED:
        raise EventRefused(f"order {p.order_id!r} is integrated: it cannot be reissued")
    if order["status"] == OrderStatus.CANCELLED:
        run = _run(store, p.run_id)
        if run["status"] == RunStatus.CANCELLED or run["cancel_requested"]:
            raise EventRefused(
                f"order {p.order_id!r} is cancelled and so is its run: it cannot be reissued"
            )
    if p.attempt != order["attempt"] + 1:
        raise EventRefused(
            f"attempt {p.attempt} of {p.order_id!r} refused: the next attempt is "
            f"{order['attempt'] + 1}"
        )
    previous = store.get("attempts", (p.order_id, order["attempt"]))
    if previous is not None and previous["status"] not in ATTEMPT_FINAL:
        previous.update(status=AttemptStatus.SUPERSEDED.value, finished_at=record.recorded_at)
        store.put("attempts", previous)
    order.update(
        status=OrderStatus.ISSUED.value,
        attempt=p.attempt,
        issued_at=record.recorded_at,
        lease_expires_at=None,
        last_signal_at=None,
        recovery_reason=None,
        integration=None,
    )
    attempt = {
        "order_id": p.order_id,
        "attempt": p.attempt,
        "status": AttemptStatus.ISSUED.value,
        "worker_id": None,
        "branch": None,
        "worktree": None,
        "base_commit": None,
        "commits": [],
        "aar": None,
        "reason": None,
        "progress": None,
        "tokens_input": 0,
        "tokens_output": 0,
        "rescue_ref": p.rescue_ref,
        "issued_at": record.recorded_at,
        "claimed_at": None,
        "started_at": None,
        "finished_at": None,
        "last_signal_at": None,
        "lease_expires_at": None,
    }
    _save(store, record, order, attempt)


@projects(ev.OrderClaimed)
def _order_claimed(store: ProjectionStore, record: EventRecord, p: ev.OrderClaimed) -> None:
    order = _order(store, p.order_id, p.run_id)
    attempt = _current_attempt(store, order, p.attempt, record.type)
    _require_status(order, {OrderStatus.ISSUED}, record.type)
    lease = record.recorded_at + timedelta(seconds=p.lease_s)
    order.update(status=OrderStatus.CLAIMED.value, lease_expires_at=lease)
    attempt.update(
        status=AttemptStatus.CLAIMED.value,
        worker_id=p.worker_id,
        claimed_at=record.recorded_at,
        lease_expires_at=lease,
    )
    _save(store, record, order, attempt)


@projects(ev.AttemptStarted)
def _attempt_started(store: ProjectionStore, record: EventRecord, p: ev.AttemptStarted) -> None:
    order = _order(store, p.order_id, p.run_id)
    attempt = _current_attempt(store, order, p.attempt, record.type)
    _require_status(order, {OrderStatus.CLAIMED}, record.type)
    order["status"] = OrderStatus.RUNNING.value
    attempt.update(
        status=AttemptStatus.RUNNING.value,
        branch=p.branch,
        worktree=p.worktree,
        base_commit=p.base_commit,
        started_at=record.recorded_at,
    )
    _save(store, record, order, attempt)


@projects(ev.SignalEmitted)
def _signal(store: ProjectionStore, record: EventRecord, p: ev.SignalEmitted) -> None:
    order = _order(store, p.order_id)
    if p.attempt != order["attempt"] or order["status"] not in {
        OrderStatus.CLAIMED,
        OrderStatus.RUNNING,
    }:
        return  # a late heartbeat from a superseded unit is history, not state
    attempt = _current_attempt(store, order, p.attempt, record.type)
    lease = record.recorded_at + timedelta(seconds=p.lease_s)
    order.update(last_signal_at=record.recorded_at, lease_expires_at=lease)
    attempt.update(
        last_signal_at=record.recorded_at,
        lease_expires_at=lease,
        progress=p.progress if p.progress is not None else attempt["progress"],
        tokens_input=p.tokens.input,
        tokens_output=p.tokens.output,
    )
    _save(store, record, order, attempt)


def _finish_attempt(
    store: ProjectionStore,
    record: EventRecord,
    p: ev.OrderCompleted | ev.OrderFailed | ev.OrderBlocked,
    status: OrderStatus,
    **changes: Any,
) -> None:
    order = _order(store, p.order_id, p.run_id)
    attempt = _current_attempt(store, order, p.attempt, record.type)
    _require_status(
        order, {OrderStatus.ISSUED, OrderStatus.CLAIMED, OrderStatus.RUNNING}, record.type
    )
    order.update(status=status.value, lease_expires_at=None)
    attempt.update(status=status.value, finished_at=record.recorded_at, lease_expires_at=None)
    if p.aar is not None:
        attempt.update(
            aar=p.aar.model_dump(mode="json"),
            tokens_input=p.aar.tokens.input,
            tokens_output=p.aar.tokens.output,
        )
    attempt.update(changes)
    _save(store, record, order, attempt)
    _add_usage(store, order, p.aar)
    add_usage(store, record, order["theater"], p.aar)
    if status == OrderStatus.COMPLETED:
        profiles.record_success(store, record, profiles.profile_of_order(order))
    elif isinstance(p, ev.OrderFailed) and attempt["claimed_at"] is not None:
        profiles.record_failure(store, record, profiles.profile_of_order(order), p.reason)


@projects(ev.OrderCompleted)
def _order_completed(store: ProjectionStore, record: EventRecord, p: ev.OrderCompleted) -> None:
    _finish_attempt(
        store, record, p, OrderStatus.COMPLETED, branch=p.branch, commits=list(p.commits)
    )


@projects(ev.OrderFailed)
def _order_failed(store: ProjectionStore, record: EventRecord, p: ev.OrderFailed) -> None:
    _finish_attempt(store, record, p, OrderStatus.FAILED, reason=p.reason)


@projects(ev.OrderBlocked)
def _order_blocked(store: ProjectionStore, record: EventRecord, p: ev.OrderBlocked) -> None:
    _finish_attempt(store, record, p, OrderStatus.BLOCKED, reason=p.reason)


@projects(ev.OrderCancelled)
def _order_cancelled(store: ProjectionStore, record: EventRecord, p: ev.OrderCancelled) -> None:
    order = _order(store, p.order_id, p.run_id)
    if order["status"] in ORDER_SETTLED:
        raise EventRefused(f"order {p.order_id!r} is already {order['status']}")
    if order["status"] == OrderStatus.INTEGRATING:
        # Its promotion may already have moved the mainline: only the integrator settles it.
        raise EventRefused(
            f"order {p.order_id!r} is integrating: it settles as integrated or "
            "integration_failed, and cannot be cancelled"
        )
    order.update(status=OrderStatus.CANCELLED.value, lease_expires_at=None)
    attempt = store.get("attempts", (p.order_id, order["attempt"]))
    if attempt is not None and attempt["status"] not in ATTEMPT_FINAL:
        attempt.update(
            status=AttemptStatus.CANCELLED.value,
            reason=p.reason,
            finished_at=attempt["finished_at"] or record.recorded_at,
        )
    _save(store, record, order, attempt)


@projects(ev.RecoveryRequired)
def _recovery(store: ProjectionStore, record: EventRecord, p: ev.RecoveryRequired) -> None:
    order = _order(store, p.order_id)
    order["recovery_reason"] = f"{p.reason}: {p.detail}" if p.detail else p.reason
    _touch(store, "orders", order, record)


@projects(ev.RescueSaved)
def _rescue(store: ProjectionStore, record: EventRecord, p: ev.RescueSaved) -> None:
    order = _order(store, p.order_id)
    attempt = store.get("attempts", (p.order_id, p.attempt))
    if attempt is None:
        raise EventRefused(f"attempt {p.attempt} of {p.order_id!r} was never issued")
    attempt["rescue_ref"] = p.ref
    _save(store, record, order, attempt)


# --- integration ------------------------------------------------------------------------------


def _integration_step(
    store: ProjectionStore,
    record: EventRecord,
    p: ev.IntegrationStarted | ev.Integrated | ev.IntegrationFailed,
    status: OrderStatus,
    integration: dict[str, Any],
) -> None:
    order = _order(store, p.order_id, p.run_id)
    attempt = _current_attempt(store, order, p.attempt, record.type)
    allowed = {OrderStatus.COMPLETED, OrderStatus.INTEGRATING}
    _require_status(order, allowed, record.type)
    order.update(
        status=status.value,
        integration={"status": status.value, "attempt": p.attempt, **integration},
    )
    attempt["status"] = status.value
    _save(store, record, order, attempt)


@projects(ev.IntegrationStarted)
def _integration_started(
    store: ProjectionStore, record: EventRecord, p: ev.IntegrationStarted
) -> None:
    _integration_step(store, record, p, OrderStatus.INTEGRATING, {})


@projects(ev.Integrated)
def _integrated(store: ProjectionStore, record: EventRecord, p: ev.Integrated) -> None:
    gates = [gate.model_dump(mode="json") for gate in p.gates]
    details = {"merged_commit": p.merged_commit, "gates": gates}
    _integration_step(store, record, p, OrderStatus.INTEGRATED, details)


@projects(ev.IntegrationFailed)
def _integration_failed(
    store: ProjectionStore, record: EventRecord, p: ev.IntegrationFailed
) -> None:
    details = {
        "gates": [gate.model_dump(mode="json") for gate in p.gates],
        "reason": p.reason,
        "output_tail": p.output_tail,
        "artifact": p.artifact,
    }
    _integration_step(store, record, p, OrderStatus.INTEGRATION_FAILED, details)
    order = _order(store, p.order_id)
    profiles.record_failure(store, record, profiles.profile_of_order(order), p.reason)


# --- theaters ---------------------------------------------------------------------------------


def _theater(store: ProjectionStore, name: str) -> Row:
    theater = store.get("theaters", (name,))
    if theater is None:
        raise EventRefused(f"theater {name!r} does not exist")
    return theater


@projects(ev.TheaterRegistered)
def _theater_registered(
    store: ProjectionStore, record: EventRecord, p: ev.TheaterRegistered
) -> None:
    if store.get("theaters", (p.name,)) is not None:
        raise EventRefused(f"theater {p.name!r} already exists")
    store.put(
        "theaters",
        {
            "name": p.name,
            "source": p.source,
            "mainline": p.mainline,
            "path": p.path,
            "head": p.head,
            "dispatch_paused": None,
            "created_at": record.recorded_at,
            "updated_at": record.recorded_at,
            "version": record.version,
        },
    )


@projects(ev.MainlineAdvanced)
def _mainline_advanced(store: ProjectionStore, record: EventRecord, p: ev.MainlineAdvanced) -> None:
    theater = _theater(store, p.name)
    theater["head"] = p.head
    _touch(store, "theaters", theater, record)


@projects(ev.DispatchPaused)
def _dispatch_paused(store: ProjectionStore, record: EventRecord, p: ev.DispatchPaused) -> None:
    theater = _theater(store, p.theater)
    if theater["dispatch_paused"] is not None:
        raise EventRefused(f"dispatch in theater {p.theater!r} is already paused")
    theater["dispatch_paused"] = p.reason
    _touch(store, "theaters", theater, record)


@projects(ev.DispatchResumed)
def _dispatch_resumed(store: ProjectionStore, record: EventRecord, p: ev.DispatchResumed) -> None:
    theater = _theater(store, p.theater)
    if theater["dispatch_paused"] is None:
        raise EventRefused(f"dispatch in theater {p.theater!r} is not paused")
    theater["dispatch_paused"] = None
    _touch(store, "theaters", theater, record)


# --- model profiles ---------------------------------------------------------------------------


@projects(ev.ProfileDisabled)
def _profile_disabled(store: ProjectionStore, record: EventRecord, p: ev.ProfileDisabled) -> None:
    profiles.disable(store, record, p)


@projects(ev.ProfileEnabled)
def _profile_enabled(store: ProjectionStore, record: EventRecord, p: ev.ProfileEnabled) -> None:
    profiles.enable(store, record, p)
