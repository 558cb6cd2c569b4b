"""Value objects shared by events, HTTP bodies and task payloads."""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

ORDER_KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
THEATER_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class Frozen(BaseModel):
    """Base for immutable wire values: unknown fields are refused, not dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RunStatus(StrEnum):
    RECEIVED = "received"
    PLANNING = "planning"
    EXECUTING = "executing"
    INTEGRATING = "integrating"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


RUN_SETTLED = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})


class OrderStatus(StrEnum):
    PLANNED = "planned"  # part of a plan, waiting for its dependencies to integrate
    ISSUED = "issued"
    CLAIMED = "claimed"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    BLOCKED = "blocked"
    INTEGRATING = "integrating"
    INTEGRATED = "integrated"
    INTEGRATION_FAILED = "integration_failed"
    CANCELLED = "cancelled"


ORDER_SETTLED = frozenset(
    {
        OrderStatus.INTEGRATED,
        OrderStatus.FAILED,
        OrderStatus.INTEGRATION_FAILED,
        OrderStatus.CANCELLED,
    }
)
ORDER_ACTIVE = frozenset(
    {OrderStatus.ISSUED, OrderStatus.CLAIMED, OrderStatus.RUNNING, OrderStatus.INTEGRATING}
)


class AttemptStatus(StrEnum):
    ISSUED = "issued"
    CLAIMED = "claimed"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    BLOCKED = "blocked"
    INTEGRATING = "integrating"
    INTEGRATED = "integrated"
    INTEGRATION_FAILED = "integration_failed"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"  # a newer attempt of the same Order was issued


class SourceKind(StrEnum):
    CHAT = "chat"
    API = "api"
    GITHUB = "github"
    SLACK = "slack"
    JIRA = "jira"
    SENTRY = "sentry"


class RunSource(Frozen):
    """Where a Run came from, so its reply can go back to the same place."""

    kind: SourceKind = SourceKind.CHAT
    reference: dict[str, str] = Field(default_factory=dict)
    author: str | None = None


class TokenUsage(Frozen):
    input: int = Field(default=0, ge=0)
    output: int = Field(default=0, ge=0)

    @property
    def total(self) -> int:
        return self.input + self.output

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(input=self.input + other.input, output=self.output + other.output)


class RunBudget(Frozen):
    """Limits on a whole Run, across its Orders: each attempt may use what the Run has left."""

    tokens: int | None = Field(default=None, ge=1)
    cost_usd: float | None = Field(default=None, gt=0)


class OrderBudget(Frozen):
    """Limits on one Order; exceeding any stops the unit with `budget_exceeded:<which>`."""

    ttl_s: int = Field(default=1800, ge=1, le=86_400)
    tokens: int | None = Field(default=None, ge=1)
    cost_usd: float | None = Field(default=None, gt=0)
    tool_calls: int | None = Field(default=None, ge=1)
    retries: int = Field(default=2, ge=0, le=20)
    heartbeat_timeout_s: int = Field(default=60, ge=5, le=3600)
    claim_timeout_s: int = Field(default=120, ge=5, le=3600)


class GateResult(Frozen):
    name: str
    passed: bool
    exit_code: int | None = None
    duration_s: float = 0.0
    output_tail: str = ""


AarOutcome = Literal["completed", "failed", "blocked"]


AAR_SCHEMA_VERSION: Final = 2


class AfterActionReport(Frozen):
    """The structured result of one attempt.

    Schema versions are additive: 2 added `engine`, `profile` and `artifacts`; a version 1
    report (without them) still reads.
    """

    schema_version: Literal[1, 2] = AAR_SCHEMA_VERSION
    outcome: AarOutcome
    summary: str = Field(max_length=20_000)
    changed_files: list[str] = Field(default_factory=list)
    commits: list[str] = Field(default_factory=list)
    tests_run: list[str] = Field(default_factory=list)
    blockers: list[str] = Field(default_factory=list)
    discovered_context: list[str] = Field(default_factory=list)
    tokens: TokenUsage = Field(default_factory=TokenUsage)
    cost_usd: float = Field(default=0.0, ge=0)
    duration_s: float = Field(default=0.0, ge=0)
    tool_calls: int = Field(default=0, ge=0)
    engine: str | None = Field(default=None, description="the engine that ran the attempt")
    profile: str | None = Field(default=None, description="its model profile, if any")
    artifacts: list[str] = Field(
        default_factory=list, description="vault artifact ids: an agent's captured output"
    )


class RequestedOrder(Frozen):
    """An Order as a caller spelled it out (`POST /runs`): explicit orders skip planning."""

    key: str = Field(pattern=ORDER_KEY_PATTERN)
    objective: str = Field(min_length=1, max_length=20_000)
    engine: str | None = Field(default=None, max_length=100)
    profile: str | None = Field(default=None, max_length=100)
    commands: list[str] = Field(default_factory=list, max_length=100)
    depends_on: list[str] = Field(default_factory=list, max_length=100, description="keys")
    success_criteria: list[str] = Field(default_factory=list, max_length=100)
    budget: OrderBudget | None = None
