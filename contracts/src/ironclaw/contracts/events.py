"""The event vocabulary: one frozen payload model per event type, and the registry of types.

Events are named in the past tense. Each lives on one stream: a Run's events on the stream named
by its run id, an Order's (and its attempts') on the stream named by its order id, a theater's on
`theater-<name>`, a patrol's on `patrol-<scope>`, a model profile's on `profile-<name>`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, JsonValue, model_validator

from ironclaw.contracts.ids import derived_event_id, new_id
from ironclaw.contracts.models import (
    ORDER_KEY_PATTERN,
    THEATER_NAME_PATTERN,
    AfterActionReport,
    Frozen,
    GateResult,
    OrderBudget,
    RequestedOrder,
    RunBudget,
    RunSource,
    TokenUsage,
)

STREAM_ID_PATTERN = r"^[a-z][a-z0-9]*[_-][A-Za-z0-9_.:-]{1,120}$"


class UnknownEventType(ValueError):
    """An event type that is not in the vocabulary: refused, never guessed."""

    def __init__(self, event_type: str) -> None:
        super().__init__(f"unknown event type {event_type!r}")
        self.event_type = event_type


class EventPayload(Frozen):
    """Base of every event payload; subclasses register themselves under their class name."""

    event_type: ClassVar[str]
    registry: ClassVar[dict[str, type[EventPayload]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.event_type = cls.__name__
        EventPayload.registry[cls.__name__] = cls


def event_class(event_type: str) -> type[EventPayload]:
    try:
        return EventPayload.registry[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def parse_payload(event_type: str, data: dict[str, Any]) -> EventPayload:
    return event_class(event_type).model_validate(data)


def event_types() -> list[str]:
    return sorted(EventPayload.registry)


def run_stream(run_id: str) -> str:
    return run_id


def order_stream(order_id: str) -> str:
    return order_id


def theater_stream(name: str) -> str:
    return f"theater-{name}"


def patrol_stream(scope: str) -> str:
    return f"patrol-{scope}"


DEFAULT_PROFILE = "default"
"""The profile of an Order that names none."""
PROFILE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"


def profile_of(profile: str | None) -> str:
    """The model profile an Order runs on: its own, else `default`."""
    return profile or DEFAULT_PROFILE


def profile_stream(name: str) -> str:
    return f"profile-{name}"


# --- runs -------------------------------------------------------------------------------------


class PlannedOrder(Frozen):
    """One Order of a plan, as the planner described it."""

    order_id: str
    key: str = Field(pattern=ORDER_KEY_PATTERN)
    objective: str = Field(min_length=1, max_length=20_000)
    success_criteria: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list, description="order ids")
    engine: str | None = None
    profile: str | None = None
    commands: list[str] = Field(default_factory=list)
    task_type: str | None = None
    budget: OrderBudget = Field(default_factory=OrderBudget)


class RunReceived(EventPayload):
    run_id: str
    theater: str = Field(pattern=THEATER_NAME_PATTERN)
    message: str = Field(min_length=1, max_length=20_000)
    source: RunSource = Field(default_factory=RunSource)
    conversation_id: str | None = None
    profile: str | None = None
    playbook: str | None = None
    requested_orders: list[RequestedOrder] = Field(default_factory=list, max_length=200)
    budget: RunBudget | None = None


class RunPlanningStarted(EventPayload):
    run_id: str
    planner: str


class RunPlanned(EventPayload):
    run_id: str
    planner: str
    orders: list[PlannedOrder] = Field(min_length=1)
    rationale: str = ""


class RunIntegrating(EventPayload):
    run_id: str


class RunAwaitingApproval(EventPayload):
    run_id: str
    reason: str


class RunApproved(EventPayload):
    run_id: str
    approver: str
    comment: str | None = None


class RunRejected(EventPayload):
    run_id: str
    approver: str
    comment: str | None = None


class RunCompleted(EventPayload):
    """The Run settled successfully; its token and cost totals come from its attempts' AARs."""

    run_id: str
    response: str


class RunFailed(EventPayload):
    run_id: str
    reason: str
    response: str | None = None


class RunCancelRequested(EventPayload):
    run_id: str
    requested_by: str | None = None


class RunCancelled(EventPayload):
    run_id: str
    reason: str = "cancelled"


class ReplyDelivered(EventPayload):
    run_id: str
    channel: str
    reference: dict[str, str] = Field(default_factory=dict)


class ReplyFailed(EventPayload):
    run_id: str
    channel: str
    reason: str
    attempts: int = Field(ge=1)


WebhookStageName = Literal["received", "verified", "parsed", "matched", "queued"]


class WebhookStage(EventPayload):
    """A step of the webhook delivery that started the Run, stamped when it happened."""

    run_id: str
    provider: str
    stage: WebhookStageName
    delivery_id: str
    at: datetime
    detail: str = ""


# --- orders and attempts ----------------------------------------------------------------------


class OrderPlanned(EventPayload):
    """An Order exists; it is issued once its dependencies are integrated."""

    order_id: str
    run_id: str
    theater: str = Field(pattern=THEATER_NAME_PATTERN)
    spec: PlannedOrder

    @model_validator(mode="after")
    def _spec_matches(self) -> OrderPlanned:
        if self.spec.order_id != self.order_id:
            raise ValueError("spec.order_id must equal order_id")
        return self


class OrderIssued(EventPayload):
    """Attempt `attempt` of an Order is ready for a unit to claim."""

    order_id: str
    run_id: str
    attempt: int = Field(ge=1)
    reason: str = "dispatched"
    rescue_ref: str | None = None


class OrderClaimed(EventPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)
    worker_id: str
    lease_s: int = Field(ge=1, le=3600)


class AttemptStarted(EventPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)
    branch: str
    worktree: str
    base_commit: str
    engine: str


class SignalEmitted(EventPayload):
    """A unit's heartbeat: it is alive and how far it got."""

    order_id: str
    attempt: int = Field(ge=1)
    progress: float | None = Field(default=None, ge=0, le=1)
    note: str = ""
    tool_calls: int = Field(default=0, ge=0)
    files_changed: int = Field(default=0, ge=0)
    tokens: TokenUsage = Field(default_factory=TokenUsage)
    lease_s: int = Field(default=60, ge=1, le=3600)


class OrderCompleted(EventPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)
    branch: str
    commits: list[str]
    aar: AfterActionReport


class OrderFailed(EventPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)
    reason: str
    retryable: bool = False
    aar: AfterActionReport | None = None


class OrderBlocked(EventPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)
    reason: str
    aar: AfterActionReport | None = None


class OrderCancelled(EventPayload):
    order_id: str
    run_id: str
    reason: str = "cancelled"


class RecoveryRequired(EventPayload):
    order_id: str
    attempt: int = Field(ge=1)
    reason: Literal["stalled", "looping", "orphaned", "incomplete", "overdue", "lease_expired"]
    detail: str = ""


class RescueSaved(EventPayload):
    """Unfinished work of an attempt was saved to a ref before its worktree was removed."""

    order_id: str
    attempt: int = Field(ge=1)
    ref: str
    commit: str


class ToolCalled(EventPayload):
    order_id: str
    attempt: int = Field(ge=1)
    tool: str
    arguments_summary: str = Field(max_length=2000)
    duration_ms: int = Field(ge=0)
    result_size: int = Field(ge=0)
    refused: str | None = None


# --- integration ------------------------------------------------------------------------------


class IntegrationReady(EventPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)


class IntegrationStarted(EventPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)


class Integrated(EventPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)
    theater: str
    merged_commit: str
    gates: list[GateResult] = Field(default_factory=list)


class IntegrationFailed(EventPayload):
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)
    reason: str
    gates: list[GateResult] = Field(default_factory=list)
    output_tail: str = ""
    artifact: str | None = None


# --- theaters ---------------------------------------------------------------------------------


class TheaterRegistered(EventPayload):
    name: str = Field(pattern=THEATER_NAME_PATTERN)
    source: str
    mainline: str = "main"
    path: str
    head: str | None = None


class MainlineAdvanced(EventPayload):
    name: str = Field(pattern=THEATER_NAME_PATTERN)
    head: str
    order_id: str | None = None


# --- patrols ----------------------------------------------------------------------------------


class PatrolCompleted(EventPayload):
    """A patrol cycle's heartbeat: what it saw and what it did."""

    scope: str
    patrol: Literal["observer", "duty", "sentinel"]
    holder: str
    saw: dict[str, int] = Field(default_factory=dict)
    did: list[str] = Field(default_factory=list)
    duration_ms: int = Field(ge=0)
    fence: int | None = Field(
        default=None, ge=1, description="the fence of the holder's lease tenure (kit.lease)"
    )


class LeaseTaken(EventPayload):
    scope: str
    holder: str
    fencing_token: int = Field(ge=1)
    previous_holder: str | None = None


class SentinelAlerted(EventPayload):
    """The sentinel raised an alert (`condition`), new or as a reminder (`patrol-sentinel`)."""

    scope: str
    condition: str
    detail: str = ""
    holder: str | None = Field(default=None, description="the sentinel that raised it")


class DutyFailover(EventPayload):
    """The sentinel revoked a stale duty officer's lease, so a standby takes over its watch."""

    stale_holder: str
    stale_for_s: float = Field(ge=0)
    fence: int | None = Field(default=None, ge=1, description="the revoked tenure's fence")
    holder: str = Field(description="the sentinel that revoked it")


class ProfileDisabled(EventPayload):
    """The duty officer stopped dispatch to a profile after failures in a row (`profile-<name>`)."""

    profile: str = Field(pattern=PROFILE_NAME_PATTERN)
    reason: str
    consecutive_failures: int = Field(default=0, ge=0)


class ProfileEnabled(EventPayload):
    """An operator let a disabled profile run again; its failure streak starts over."""

    profile: str = Field(pattern=PROFILE_NAME_PATTERN)
    operator: str


class DispatchPaused(EventPayload):
    """The duty officer refuses new work in a theater (`theater-<name>`): a budget ran out."""

    theater: str = Field(pattern=THEATER_NAME_PATTERN)
    reason: str


class DispatchResumed(EventPayload):
    """Dispatch in a theater goes on: it is back under its budgets (a new day, a raised one)."""

    theater: str = Field(pattern=THEATER_NAME_PATTERN)
    reason: str = ""


class DispatchRefused(EventPayload):
    order_id: str
    run_id: str
    reason: str


def _unstorable(value: object) -> bool:
    """NUL and lone surrogates cannot be stored as PostgreSQL text or JSONB, nor sent as UTF-8."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(item) for item in value)
    return False


# --- envelopes --------------------------------------------------------------------------------


class EventMetadata(Frozen):
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None


class NewEvent(Frozen):
    """An event to append. `data` is validated against the payload model of `type`."""

    id: str = Field(default_factory=lambda: new_id("evt"), pattern=r"^evt_[0-9a-z]{26}$")
    type: str
    data: dict[str, JsonValue]
    metadata: EventMetadata = Field(default_factory=EventMetadata)

    @model_validator(mode="before")
    @classmethod
    def _normalise_data(cls, values: Any) -> Any:
        if isinstance(values, dict) and isinstance(values.get("type"), str):
            payload = parse_payload(values["type"], values.get("data") or {})
            data = payload.model_dump(mode="json")
            if _unstorable(data):
                raise ValueError(
                    "event data must not contain NUL (\\u0000) or unpaired surrogate characters"
                )
            return {**values, "data": data}
        return values

    @classmethod
    def of(cls, payload: EventPayload, *, metadata: EventMetadata | None = None) -> NewEvent:
        return cls(
            type=payload.event_type,
            data=payload.model_dump(mode="json"),
            metadata=metadata or EventMetadata(),
        )

    @classmethod
    def derived(cls, payload: EventPayload, *parts: str | int, actor: str) -> NewEvent:
        """`payload` appended by `actor` under an id derived from its type and `parts`: the
        same writer deciding the same thing twice stores it once (see `derived_event_id`)."""
        return cls(
            id=derived_event_id(actor, payload.event_type, *parts),
            type=payload.event_type,
            data=payload.model_dump(mode="json"),
            metadata=EventMetadata(actor=actor),
        )

    def payload(self) -> EventPayload:
        return parse_payload(self.type, self.data)


class StoredEvent(NewEvent):
    """An event as the ledger stored it."""

    stream_id: str
    version: int = Field(ge=1)
    position: int = Field(ge=1)
    recorded_at: datetime
