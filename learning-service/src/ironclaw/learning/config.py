"""Settings of the learning service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """What the learning service reads from `IRONCLAW_*`."""

    service_name: str = "learning"
    http_port: int = Field(default=8003, ge=1, le=65535)
