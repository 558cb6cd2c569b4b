"""Settings of the integration service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """What the integration service reads from `IRONCLAW_*`."""

    service_name: str = "integration"
    http_port: int = Field(default=8013, ge=1, le=65535)
