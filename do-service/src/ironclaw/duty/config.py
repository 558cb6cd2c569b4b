"""Settings of the duty officer service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ironclaw.contracts.kit.settings import PatrolSettings


class DailyBudget(BaseModel):
    """One theater's daily budget, in IRONCLAW_THEATER_BUDGETS."""

    model_config = ConfigDict(extra="forbid")

    tokens_per_day: int | None = Field(default=None, ge=1)
    cost_per_day_usd: float | None = Field(default=None, gt=0)


class Settings(PatrolSettings):
    """What the duty officer service reads from `IRONCLAW_*` (its patrol interval among them)."""

    service_name: str = "duty"
    http_port: int = Field(default=8014, ge=1, le=65535)
    expired_lease_grace_s: float = Field(
        default=15.0, ge=0, description="how long past its lease an attempt may go unreissued"
    )
    backoff_base_s: float = Field(
        default=10.0, ge=0, description="attempt n+1 waits base * 2^(n-1) s after attempt n"
    )
    integration_resend_after_s: float = Field(
        default=120.0, gt=0, description="a `completed` Order this old gets IntegrationReady"
    )
    reply_retries: int = Field(
        default=5,
        ge=0,
        le=20,
        description="a failed webhook reply is re-sent this often, the wait doubling each time",
    )
    message_resend_after_s: float = Field(
        default=120.0,
        gt=0,
        description="a Run or promotion idle this long gets its lost message again",
    )
    patrol_limit: int = Field(
        default=1000, ge=1, le=1000, description="Orders read per page of a status query"
    )
    duty_lease_ttl_s: float = Field(
        default=90.0, gt=0, description="how long the active DO's lease outlives its last cycle"
    )
    profile_disable_after: int = Field(
        default=5, ge=1, description="a profile failing this many times in a row is disabled"
    )
    budget_tokens_per_day: int | None = Field(
        default=None, ge=1, description="tokens all theaters together may use per UTC day"
    )
    budget_cost_per_day_usd: float | None = Field(
        default=None, gt=0, description="USD all theaters together may spend per UTC day"
    )
    theater_budgets: dict[str, DailyBudget] = Field(
        default_factory=dict,
        description='each theater\'s own, as JSON: {"<theater>": {"tokens_per_day": 200000, '
        '"cost_per_day_usd": 5.0}}',
    )
