"""Gateway settings."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """What the gateway reads from `IRONCLAW_*`."""

    service_name: str = "gateway"
    http_port: int = Field(default=8000, ge=1, le=65535)
    ready_timeout_s: float = Field(default=2.0, gt=0, description="per dependency in /ready")
