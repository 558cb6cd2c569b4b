"""Settings of the vault service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """What the vault service reads from `IRONCLAW_*`."""

    service_name: str = "vault"
    http_port: int = Field(default=8002, ge=1, le=65535)
