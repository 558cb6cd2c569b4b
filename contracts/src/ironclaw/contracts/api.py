"""HTTP bodies: the gateway's public API (ARCHITECTURE section 4) and the ledger's."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ironclaw.contracts.events import STREAM_ID_PATTERN, NewEvent, StoredEvent
from ironclaw.contracts.models import (
    THEATER_NAME_PATTERN,
    AfterActionReport,
    AttemptStatus,
    GateResult,
    OrderBudget,
    OrderStatus,
    RequestedOrder,
    RunBudget,
    RunSource,
    RunStatus,
    TokenUsage,
)
from ironclaw.contracts.profiles import ModelProfile

MAX_MESSAGE_CHARS = 20_000


class Body(BaseModel):
    """Base of request bodies: unknown fields are an error, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid")


class View(BaseModel):
    """Base of response bodies."""

    model_config = ConfigDict(frozen=True)


class Problem(View):
    """An RFC 9457 problem document (`application/problem+json`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


# --- public: runs -----------------------------------------------------------------------------


class ChatRequest(Body):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    theater: str = Field(default="default", pattern=THEATER_NAME_PATTERN)
    conversation_id: str | None = Field(default=None, max_length=200)
    wait_s: float = Field(default=0, ge=0, le=120)
    profile: str | None = Field(default=None, max_length=100)
    playbook: str | None = Field(default=None, max_length=100)
    budget: RunBudget | None = Field(default=None, description="limits on the whole Run")


OrderRequest = RequestedOrder
"""One explicit Order of `POST /runs`."""


class RunSubmission(Body):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    theater: str = Field(default="default", pattern=THEATER_NAME_PATTERN)
    orders: list[OrderRequest] | None = Field(default=None, min_length=1, max_length=200)
    wait_s: float = Field(default=0, ge=0, le=120)
    profile: str | None = Field(default=None, max_length=100)
    budget: RunBudget | None = Field(default=None, description="limits on the whole Run")


class RunLinks(View):
    self: str
    events: str


class RunAccepted(View):
    run_id: str
    status: RunStatus
    links: RunLinks


class OrderSummary(View):
    order_id: str
    key: str
    status: OrderStatus
    attempt: int
    objective: str


class RunView(View):
    run_id: str
    status: RunStatus
    theater: str
    message: str
    source: RunSource
    conversation_id: str | None = None
    planner: str | None = None
    response: str | None = None
    reason: str | None = None
    cancel_requested: bool = Field(
        default=False, description="a cancel was asked for; the run settles `cancelled` soon"
    )
    created_at: datetime
    updated_at: datetime
    orders: list[OrderSummary] = Field(default_factory=list)
    tokens: TokenUsage = Field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    reply_status: Literal["delivered", "failed"] | None = Field(
        default=None, description="a webhook Run's reply: delivered, or failed (retried)"
    )
    reply_failures: int = Field(default=0, ge=0)
    version: int


class AttemptView(View):
    attempt: int
    status: AttemptStatus
    worker_id: str | None = None
    branch: str | None = None
    worktree: str | None = None
    base_commit: str | None = None
    commits: list[str] = Field(default_factory=list)
    aar: AfterActionReport | None = None
    reason: str | None = None
    progress: float | None = None
    tokens: TokenUsage = Field(default_factory=TokenUsage)
    rescue_ref: str | None = None
    issued_at: datetime
    claimed_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    last_signal_at: datetime | None = None
    lease_expires_at: datetime | None = None


class IntegrationView(View):
    status: Literal["integrating", "integrated", "integration_failed"]
    attempt: int
    merged_commit: str | None = None
    gates: list[GateResult] = Field(default_factory=list)
    reason: str | None = None
    output_tail: str = ""
    artifact: str | None = None


class OrderView(View):
    order_id: str
    run_id: str
    theater: str
    key: str
    status: OrderStatus
    objective: str
    success_criteria: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    engine: str | None = None
    profile: str | None = None
    commands: list[str] = Field(default_factory=list)
    task_type: str | None = None
    budget: OrderBudget
    attempt: int
    recovery_reason: str | None = None
    attempts: list[AttemptView] = Field(default_factory=list)
    integration: IntegrationView | None = None
    created_at: datetime
    updated_at: datetime
    version: int


class OrderRetried(OrderView):
    """`POST /orders/{id}/retry`'s answer: the reissued order, and what the retry can change."""

    run_status: RunStatus
    note: str = Field(description="what the new attempt does for the run, in a sentence")


class ApprovalRequest(Body):
    decision: Literal["approve", "reject"]
    approver: str = Field(min_length=1, max_length=200)
    comment: str | None = Field(default=None, max_length=5000)


# --- public: theaters -------------------------------------------------------------------------


class TheaterCreate(Body):
    name: str = Field(pattern=THEATER_NAME_PATTERN)
    source: str = Field(min_length=1, max_length=2000, description="a local path or a git URL")
    mainline: str = Field(default="main", min_length=1, max_length=200)


class TheaterView(View):
    name: str
    source: str
    mainline: str
    head: str | None
    path: str
    dispatch_paused: str | None = Field(
        default=None, description="why new work is refused here (a budget ran out); null: open"
    )


# --- model profiles and budgets -----------------------------------------------------------------


class ProfileHealth(View):
    """A model profile's record in the ledger: its failure streak, and whether it is disabled."""

    name: str
    consecutive_failures: int
    last_failure: str | None = None
    disabled: bool
    disabled_reason: str | None = None
    updated_at: datetime
    version: int = Field(description="the version of its `profile-<name>` stream")


class ProfileView(ModelProfile):
    """A model profile as `GET /profiles` shows it: as configured (its key only by the name of
    the variable holding it, credentials in its URL masked), with its health if an Order has
    settled on it."""

    health: ProfileHealth | None = None


class TheaterUsage(View):
    """What one theater's attempts used on one UTC day (counted when each attempt settled)."""

    theater: str
    day: date
    attempts: int
    tokens: TokenUsage
    cost_usd: float


# --- vault (internal) ------------------------------------------------------------------------


class WorktreeRequest(Body):
    """A worktree for one attempt, on branch `ironclaw/<order_id>/<attempt>` from the mainline."""

    theater: str = Field(pattern=THEATER_NAME_PATTERN)
    order_id: str
    run_id: str
    attempt: int = Field(ge=1)
    task_md: str = Field(max_length=200_000, description="written to .ironclaw/task.md")
    state: dict[str, object] = Field(default_factory=dict, description=".ironclaw/state.json")
    start_from: str | None = Field(default=None, description="a ref to start from (a rescue)")


class WorktreeView(View):
    theater: str
    order_id: str
    attempt: int
    path: str
    branch: str
    base_commit: str
    repository: str


class ArtifactView(View):
    artifact_id: str
    name: str
    size: int
    sha256: str
    path: str


# --- ledger (internal) ------------------------------------------------------------------------


class AppendRequest(Body):
    """Append events to one stream if it is still at `expected_version` (None: any version)."""

    stream_id: str = Field(pattern=STREAM_ID_PATTERN)
    expected_version: int | None = Field(ge=0)
    events: list[NewEvent] = Field(min_length=1, max_length=1000)


class AppendBatch(Body):
    """Appends to several streams in one transaction: all are written, or none."""

    appends: list[AppendRequest] = Field(min_length=1, max_length=500)


class AppendResult(View):
    stream_id: str
    version: int
    events: list[StoredEvent]
    duplicate: bool = Field(
        default=False, description="true when every event id was already stored: nothing written"
    )


class AppendBatchResult(View):
    results: list[AppendResult]


class VersionConflict(Problem):
    stream_id: str
    expected_version: int | None
    actual_version: int


class StreamPage(View):
    stream_id: str
    version: int
    events: list[StoredEvent]


class FeedPage(View):
    events: list[StoredEvent]
    last_position: int = Field(description="pass as `after` to read on; unchanged when empty")


class SnapshotView(View):
    stream_id: str
    version: int
    state: dict[str, object]
    created_at: datetime


class OrderQuery(Body):
    """Filters for listing Orders from the projection (patrols use these)."""

    status: list[OrderStatus] = Field(default_factory=list)
    run_id: str | None = None
    theater: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)
