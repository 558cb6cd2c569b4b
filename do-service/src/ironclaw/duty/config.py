"""Settings of the duty officer service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """What the duty officer service reads from `IRONCLAW_*`."""

    service_name: str = "duty"
    http_port: int = Field(default=8014, ge=1, le=65535)
    patrol_interval_s: float = Field(default=30.0, gt=0)
