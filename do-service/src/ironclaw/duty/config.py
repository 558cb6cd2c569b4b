"""Settings of the duty officer service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import PatrolSettings


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
