"""Settings of the duty officer service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import PatrolSettings


class Settings(PatrolSettings):
    """What the duty officer service reads from `IRONCLAW_*` (its patrol interval among them)."""

    service_name: str = "duty"
    http_port: int = Field(default=8014, ge=1, le=65535)
