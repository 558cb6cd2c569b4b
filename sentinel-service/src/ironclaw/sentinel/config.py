"""Settings of the sentinel service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import PatrolSettings


class Settings(PatrolSettings):
    """What the sentinel service reads from `IRONCLAW_*` (its patrol interval among them)."""

    service_name: str = "sentinel"
    http_port: int = Field(default=8015, ge=1, le=65535)
